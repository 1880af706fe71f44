"""escape.nix_path: every relative path becomes a Nix expression for exactly that path, as
``nix-instantiate`` normalises it, relative to the file it is written in."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.render.escape import NixEscapeError, NixPath, UserModule, nix_path, user_module

PART = st.one_of(
    st.sampled_from(["..", ".", "hosts", "web.nix", "a+b_c-d.nix", ".hidden"]),
    st.text(
        st.sampled_from([*"aZ09._-+ '\"$\\{}@~<>:,;=!#%&()*?[]|", "é", "\u200b", "\U0001f600"]),
        min_size=1,
        max_size=6,
    ).filter(lambda part: part not in {".", ".."} and "/" not in part),
)
RELATIVE = st.lists(PART, min_size=1, max_size=4).map("/".join)


def test_literals_and_the_spelled_form() -> None:
    assert nix_path(NixPath("../../hosts/web.nix")) == "../../hosts/web.nix"
    assert nix_path(NixPath("web.nix")) == "./web.nix"
    assert nix_path(NixPath("a/b+c_d-e.nix")) == "./a/b+c_d-e.nix"
    assert nix_path(NixPath("../my host.nix")) == '(./. + "/../my host.nix")'
    assert nix_path(NixPath("${x}.nix")) == '(./. + "/\\${x}.nix")'
    for bad in ("", "/etc/hosts"):
        with pytest.raises(NixEscapeError):
            nix_path(NixPath(bad))


def test_a_missing_module_is_an_escaped_throw() -> None:
    module = UserModule("my web", 'scenario "x".toml: ${oops}')
    assert user_module(module) == (
        '(userModules."my web" or (throw "scenario \\"x\\".toml: \\${oops}"))'
    )
    assert user_module(UserModule("web's", "m")) == '(userModules.web\'s or (throw "m"))'


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="needs nix-instantiate")
def test_every_relative_path_evaluates_to_itself(tmp_path: Path) -> None:
    """One `nix-instantiate --eval` of all examples: each expression, written in a file in
    tmp_path/a/b, is the path that the relative path names from there, normalised."""
    base = tmp_path / "a" / "b"
    base.mkdir(parents=True)
    examples: list[str] = []

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(RELATIVE)
    def collect(relative: str) -> None:
        examples.append(relative)

    collect()
    (base / "paths.nix").write_text(
        "[\n" + "\n".join(f"  (toString {nix_path(NixPath(p))})" for p in examples) + "\n]\n"
    )
    result = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", str(base / "paths.nix")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = [os.path.normpath(os.path.join(base, relative)) for relative in examples]
    assert json.loads(result.stdout) == expected
