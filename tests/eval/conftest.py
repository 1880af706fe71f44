"""Fixtures of the eval tier: nixpkgs' lib, or a skip that says why it is missing."""

from pathlib import Path

import pytest
from nspawn_eval import find_nixpkgs_lib, missing_lib_reason


@pytest.fixture(scope="session")
def nixpkgs_lib() -> Path:
    """The directory of nixpkgs' lib (NIXPKGS_LIB or <nixpkgs/lib>); skips the test without it."""
    lib = find_nixpkgs_lib()
    if lib is None:
        pytest.skip(missing_lib_reason())
    return lib
