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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent
ROOT = EVAL_DIR.parents[1]
HARNESS = EVAL_DIR / "harness.nix"
REFERENCE_DIR = ROOT / "tests" / "reference"


class NixEvalError(RuntimeError):
    """nix-instantiate failed; the message carries the command and Nix's error output."""


NIX_FLAKES = ("--extra-experimental-features", "nix-command flakes")
FLAKE_TIMEOUT_SECONDS = 600  # fetching nixpkgs (a ~40 MB tarball) on a slow link


@dataclass(frozen=True)
class LibSource:
    """Where nixpkgs' ``lib`` is (``path``) and how it was found, or why not (``origin``)."""

    path: Path | None
    origin: str


def _lib_dir(candidate: Path, origin: str, missing: str) -> LibSource:
    if (candidate / "default.nix").is_file():
        return LibSource(candidate, origin)
    return LibSource(None, missing)


def _nix(
    *args: str, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            env=dict(env),
        )
    except subprocess.TimeoutExpired:
        return None


def _flake_input(env: Mapping[str, str], flake_root: Path) -> LibSource:
    """The flake's own ``nixpkgs`` input, fetched by Nix (needs the network the first time).

    The revision is the one ``flake.lock`` pins (a flake without a lock resolves the branch
    that ``flake.nix`` names at the time of the call); ``origin`` reports it. Nothing writes a
    lock file.
    """
    if shutil.which("nix") is None:
        return LibSource(None, "`nix` is not installed")
    failed = []
    outputs = {}
    for command in ("metadata", "archive"):
        argv = ("nix", *NIX_FLAKES, "flake", command, "--json", "--no-write-lock-file")
        result = _nix(*argv, str(flake_root), env=env, timeout=FLAKE_TIMEOUT_SECONDS)
        if result is None or result.returncode != 0:
            lines = [] if result is None else result.stderr.strip().splitlines()
            errors = [line for line in lines if line.startswith("error:")] or lines
            detail = errors[-1] if errors else f"no answer in {FLAKE_TIMEOUT_SECONDS} s"
            failed.append(f"`nix flake {command}` failed: {detail}")
            break
        outputs[command] = json.loads(result.stdout)
    if failed:
        return LibSource(None, f"the flake's nixpkgs input cannot be fetched ({failed[0]})")
    locked = outputs["metadata"]["locks"]["nodes"]["nixpkgs"]["locked"]
    revision = locked.get("rev", "unknown revision")
    source = Path(outputs["archive"]["inputs"]["nixpkgs"]["path"])
    origin = f"the flake's nixpkgs input at {locked.get('owner', '')}/{locked.get('repo', '')} "
    origin += f"revision {revision} ({source})"
    return _lib_dir(source / "lib", origin, f"{origin} has no lib/default.nix")


def lookup_nixpkgs_lib(env: Mapping[str, str], flake_root: Path) -> LibSource:
    """nixpkgs' ``lib``: ``NIXPKGS_LIB``, else ``<nixpkgs/lib>``, else the flake's input.

    An explicit ``NIXPKGS_LIB`` that is wrong is reported, not passed over.
    """
    configured = env.get("NIXPKGS_LIB")
    if configured:
        return _lib_dir(
            Path(configured),
            f"NIXPKGS_LIB={configured}",
            f"NIXPKGS_LIB={configured} has no default.nix",
        )
    if shutil.which("nix-instantiate") is None:
        return LibSource(None, "nix-instantiate is not installed")
    found = _nix("nix-instantiate", "--find-file", "nixpkgs/lib", env=env, timeout=60)
    if found is not None and found.returncode == 0:
        path = Path(found.stdout.strip())
        origin = f"<nixpkgs/lib> = {path}"
        return _lib_dir(path, origin, f"{origin} has no default.nix")
    flake = _flake_input(env, flake_root)
    if flake.path is not None:
        return flake
    return LibSource(
        None,
        "nixpkgs lib not found: NIXPKGS_LIB is not set, <nixpkgs/lib> is not on NIX_PATH, and "
        + flake.origin,
    )


@cache
def locate_nixpkgs_lib() -> LibSource:
    """The eval tier's nixpkgs lib, looked up once per process in this repository's flake."""
    return lookup_nixpkgs_lib(os.environ, ROOT)


def find_nixpkgs_lib() -> Path | None:
    """The directory of nixpkgs' lib (with default.nix), or None (see locate_nixpkgs_lib)."""
    return locate_nixpkgs_lib().path


def missing_lib_reason() -> str:
    """Why the eval tier cannot run here (for pytest.skip)."""
    return locate_nixpkgs_lib().origin


def harness_argv(
    lib: Path,
    attrs: tuple[str, ...],
    case: str | None = None,
    entry: str = "host",
    cases_file: Path | None = None,
    credential_file: Path | None = None,
    read_write: bool = False,
) -> list[str]:
    """The ``nix-instantiate`` command that evaluates ``attrs`` of the harness (all of it
    without), for ``case`` of ``cases_file`` (default: cases.nix).

    ``credential_file`` replaces the host file of the cases' file credentials; ``read_write``
    lets Nix really copy the Nix paths it meets into the store (as a build would), instead of
    only computing their store paths.
    """
    argv = [
        "nix-instantiate",
        "--eval",
        "--strict",
        "--json",
        str(HARNESS),
        "--argstr",
        "libPath",
        str(lib),
        "--argstr",
        "entry",
        entry,
        # For the stand-in nixpkgs tree tests/eval/other-nixpkgs (its lib/default.nix).
        "-I",
        f"nixos-nspawn-eval-lib={lib}",
    ]
    if case is not None:
        argv += ["--argstr", "case", case]
    if cases_file is not None:
        argv += ["--argstr", "casesFile", str(cases_file.resolve())]
    if credential_file is not None:
        argv += ["--argstr", "credentialFile", str(credential_file)]
    if read_write:
        argv.append("--read-write-mode")
    for attr in attrs:
        argv += ["-A", attr]
    return argv


def evaluate(
    lib: Path,
    attr: str | None,
    case: str | None = None,
    entry: str = "host",
    credential_file: Path | None = None,
    read_write: bool = False,
) -> Any:
    """Evaluate the harness (one attribute of it, for one case) and return it as JSON data
    (``credential_file`` and ``read_write`` as for :func:`harness_argv`)."""
    argv = harness_argv(
        lib,
        () if attr is None else (attr,),
        case,
        entry,
        credential_file=credential_file,
        read_write=read_write,
    )
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


def exportable_cases(lib: Path) -> list[str]:
    """The cases that may become references: all but the probes that only their test evaluates."""
    names = evaluate(lib, "exportable")
    assert isinstance(names, list)
    return [str(name) for name in names]


def reference_path(case: str) -> Path:
    return REFERENCE_DIR / f"{case}.json"


def reference_text(data: dict[str, Any]) -> str:
    """The committed form of a reference: stable key order, two-space indent, final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def reference_cases(lib: Path) -> list[str]:
    """The cases whose unit settings are exported: every exportable case (not a probe that only
    its test evaluates) that passes its assertions."""
    return [case for case in exportable_cases(lib) if not evaluate(lib, "failedAssertions", case)]
