"""Fixtures of the eval tier: nixpkgs' lib, or a skip that says why it is missing."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nspawn_eval import locate_nixpkgs_lib, report

from tests.tiers import LIB_PROPERTY


@pytest.fixture(scope="session")
def nixpkgs_lib() -> Path:
    """The directory of nixpkgs' lib (see ``locate_nixpkgs_lib``); skips the test without it."""
    source = locate_nixpkgs_lib()
    if source.path is None:
        pytest.skip(source.origin)
    return source.path


@pytest.fixture(autouse=True)
def _report_lib_origin(request: pytest.FixtureRequest) -> None:
    """Every eval-tier test says where its nixpkgs lib came from (on the tier's closing line)."""
    if request.node.get_closest_marker("eval") is None:
        return  # tests/eval also holds unit tests (test_lib_lookup.py)
    source = locate_nixpkgs_lib()
    if source.path is not None:
        request.node.user_properties.append((LIB_PROPERTY, source.origin))


@pytest.fixture
def run(nixpkgs_lib: Path) -> Callable[[str], dict[str, Any]]:
    """run(case) -> the harness report of a case that passes its assertions."""

    def get(case: str) -> dict[str, Any]:
        data = report(nixpkgs_lib, case)
        assert data["failedAssertions"] == [], data["failedAssertions"]
        return data

    return get
