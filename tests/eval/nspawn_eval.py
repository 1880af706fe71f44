"""The eval tier's one way into Nix: evaluate tests/eval/harness.nix with nix-instantiate.

The harness evaluates the real ``nix/host.nix`` with nixpkgs' real module system; this module only
finds nixpkgs' ``lib``, runs ``nix-instantiate --eval --strict --json`` and decodes the result, so
that the tests and the reference export (``export_reference.py``) read the same data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent
ROOT = EVAL_DIR.parents[1]
HARNESS = EVAL_DIR / "harness.nix"
REFERENCE_DIR = ROOT / "tests" / "reference"


class NixEvalError(RuntimeError):
    """nix-instantiate failed; the message carries the command and Nix's error output."""


def find_nixpkgs_lib() -> Path | None:
    """nixpkgs' ``lib`` directory (with default.nix): ``NIXPKGS_LIB``, else ``<nixpkgs/lib>``."""
    configured = os.environ.get("NIXPKGS_LIB")
    if configured:
        candidate = Path(configured)
        return candidate if (candidate / "default.nix").is_file() else None
    if shutil.which("nix-instantiate") is None:
        return None
    found = subprocess.run(
        ["nix-instantiate", "--find-file", "nixpkgs/lib"],
        capture_output=True, text=True, check=False,
    )
    if found.returncode != 0:
        return None
    candidate = Path(found.stdout.strip())
    return candidate if (candidate / "default.nix").is_file() else None


def missing_lib_reason() -> str:
    """Why the eval tier cannot run here (for pytest.skip)."""
    if shutil.which("nix-instantiate") is None:
        return "nix-instantiate is not installed"
    if os.environ.get("NIXPKGS_LIB"):
        return f"NIXPKGS_LIB={os.environ['NIXPKGS_LIB']} has no default.nix"
    return "nixpkgs lib not found: set NIXPKGS_LIB or put nixpkgs on NIX_PATH (<nixpkgs/lib>)"


def harness_argv(
    lib: Path, attrs: tuple[str, ...], case: str | None = None, entry: str = "host",
    cases_file: Path | None = None,
) -> list[str]:
    """The ``nix-instantiate`` command that evaluates ``attrs`` of the harness (all of it
    without), for ``case`` of ``cases_file`` (default: cases.nix)."""
    argv = [
        "nix-instantiate", "--eval", "--strict", "--json", str(HARNESS),
        "--argstr", "libPath", str(lib), "--argstr", "entry", entry,
    ]
    if case is not None:
        argv += ["--argstr", "case", case]
    if cases_file is not None:
        argv += ["--argstr", "casesFile", str(cases_file.resolve())]
    for attr in attrs:
        argv += ["-A", attr]
    return argv


def evaluate(lib: Path, attr: str | None, case: str | None = None, entry: str = "host") -> Any:
    """Evaluate the harness (one attribute of it, for one case) and return it as JSON data."""
    argv = harness_argv(lib, () if attr is None else (attr,), case, entry)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    if result.returncode != 0:
        raise NixEvalError(f"{' '.join(argv)} failed:\n{result.stderr}")
    return json.loads(result.stdout)


@cache
def report(lib: Path, case: str, entry: str = "host") -> dict[str, Any]:
    """Everything the harness reports for a case that evaluates (cached: cases are immutable)."""
    data = evaluate(lib, None, case, entry)
    assert isinstance(data, dict)
    return data


def case_names(lib: Path) -> list[str]:
    names = evaluate(lib, "cases")
    assert isinstance(names, list)
    return [str(name) for name in names]


def reference_path(case: str) -> Path:
    return REFERENCE_DIR / f"{case}.json"


def reference_text(data: dict[str, Any]) -> str:
    """The committed form of a reference: stable key order, two-space indent, final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def reference_cases(lib: Path) -> list[str]:
    """The cases whose unit settings are exported: every case that passes its assertions."""
    return [
        case for case in case_names(lib)
        if not evaluate(lib, "failedAssertions", case)
    ]
