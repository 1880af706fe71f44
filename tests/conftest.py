"""Configuration of the project's own test suite (not of ``pytest scenarios/``).

Tests that call the real ``nix`` are hermetic: what they need from ``nix.conf`` is set here, for
every test, through ``NIX_CONFIG``, so they pass whether the machine has Debian's multi-user set-up
(``nixbld`` build users), a single-user one or none. The machine's own settings that say *where*
things are (``nix-path``, ``NIX_PATH``) still apply: the eval tier looks nixpkgs up through them.
"""

from collections.abc import Iterator

import pytest

HERMETIC_NIX_CONFIG = "\n".join(
    (
        "experimental-features = nix-command flakes",
        # Build as the calling user: root needs no nixbld group, and no daemon is involved.
        "build-users-group =",
        # The stand-in derivations run /bin/sh, which a sandbox would not contain.
        "sandbox = false",
        # Offline: no binary cache to ask.
        "substituters =",
        # A fetch that cannot connect fails in seconds, not minutes.
        "connect-timeout = 15",
    )
)


@pytest.fixture(scope="session", autouse=True)
def hermetic_nix() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NIX_CONFIG", HERMETIC_NIX_CONFIG)
        yield


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs (pytester, subprocesses) format their summaries as they do outside CI.

    pytest prints untruncated short-summary lines when ``CI`` or ``BUILD_NUMBER`` is set (as
    ``.ci/run`` has it); tests that read an inner run's output must not depend on where they run.
    """
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
