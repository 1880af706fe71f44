"""The loader's unit-value rules (harness/scenario/unit_values.py) are the module's
(nix/unit-values.nix).

A scenario that validates must not then fail the module's assertions, and the loader must not
refuse what the module accepts: both are evaluated on every string of three characters from an
alphabet of the characters the rules are about, and must agree on each, message included.
"""

import itertools
import json
import subprocess
from pathlib import Path

import pytest
from nspawn_eval import ROOT

from harness.scenario.unit_values import path_problem, setting_key_problem, value_problem

pytestmark = pytest.mark.eval

ALPHABET = [
    "",
    "a",
    " ",
    "\\",
    "\t",
    "\n",
    "\r",
    "\x01",
    "\x1f",
    "\x7f",
    "%",
    ":",
    "=",
    "-",
    "_",
    "é",
]
SAMPLES = sorted({"".join(chars) for chars in itertools.product(ALPHABET, repeat=3)})


def nix_results(lib: Path, function: str, samples: list[str]) -> list[object]:
    expression = (
        "{ lib, samples }: map (import ./nix/unit-values.nix { lib = import lib; })."
        f"{function} (builtins.fromJSON samples)"
    )
    result = subprocess.run(
        [
            "nix-instantiate",
            "--eval",
            "--strict",
            "--json",
            "--expr",
            expression,
            "--argstr",
            "lib",
            str(lib),
            "--argstr",
            "samples",
            json.dumps(samples),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    results = json.loads(result.stdout)
    assert isinstance(results, list)
    assert len(results) == len(samples)
    return results


def test_samples_cover_every_rule() -> None:
    problems = {str(value_problem(s)).split(",")[0] for s in SAMPLES}
    assert {"None", "starts or ends with whitespace"} <= problems
    assert any(p.startswith("contains the control character") for p in problems)
    assert any(p.startswith("ends in a backslash") for p in problems)


def test_value_rules_agree(nixpkgs_lib: Path) -> None:
    nix = nix_results(nixpkgs_lib, "unitValueProblem", SAMPLES)
    differ = [
        (s, n, value_problem(s)) for s, n in zip(SAMPLES, nix, strict=True) if n != value_problem(s)
    ]
    assert not differ, differ[:5]


def test_setting_name_rules_agree(nixpkgs_lib: Path) -> None:
    keys = [*SAMPLES, "Name", "DHCPServer", "X-Foo", "IPv6AcceptRA", "9Lives", "-x"]
    nix = nix_results(nixpkgs_lib, "isSettingName", keys)
    differ = [
        (k, n) for k, n in zip(keys, nix, strict=True) if n != (setting_key_problem(k) is None)
    ]
    assert not differ, differ[:5]


PATH_ALPHABET = ["/", ".", "a", "é", ".."]
PATHS = sorted(
    {"".join(chars) for n in range(1, 6) for chars in itertools.product(PATH_ALPHABET, repeat=n)}
    | {"/" + "a" * 255, "/" + "a" * 256, "/" + "é" * 128, "/x" * 2047, "/x" * 2048, ""}
)


def test_path_samples_cover_every_rule() -> None:
    problems = {path_problem(p) for p in PATHS}
    assert len(problems) == 5, problems  # no problem, and each of the four rules


def test_path_rules_agree(nixpkgs_lib: Path) -> None:
    """Empty, `.` and `..` components and the kernel's lengths (bytes, as Nix counts them)."""
    nix = nix_results(nixpkgs_lib, "pathProblem", PATHS)
    differ = [
        (p, n, path_problem(p)) for p, n in zip(PATHS, nix, strict=True) if n != path_problem(p)
    ]
    assert not differ, differ[:5]
