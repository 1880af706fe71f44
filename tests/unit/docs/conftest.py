"""The manual's site, built once per test process with the strict configuration."""

import importlib.util
from pathlib import Path

import pytest
from support.manual import build

from harness.catalogue import find_root


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (the dev extra: ./scripts/install.sh)")
    out = tmp_path_factory.mktemp("site")
    result = build(find_root(Path(__file__)) / "mkdocs.yml", out)
    assert result.returncode == 0, result.stderr
    return out
