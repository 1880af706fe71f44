"""Syntax check of a scenario's Nix code fields with ``nix-instantiate --parse``.

The ``config`` fields are Nix code by design and are inserted as they are; without this check a
typo there shows up only when a VM test is built, as a Nix error naming a generated file. When
``nix-instantiate`` is on ``PATH``, validation parses every such field, each as a file of its
own (as the generated test imports it), in one subprocess per scenario. Nix's parser stops at
the first file it cannot parse, so one run reports the first broken field (in file order).
Without Nix, or when Nix itself fails for another reason, the check is skipped quietly: the
build would still report the error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NIX_INSTANTIATE = "nix-instantiate"
TIMEOUT_SECONDS = 30
"""Parsing takes milliseconds; this only stops a wedged Nix from stalling validation."""

_ERROR = re.compile(r"^error: (?P<message>.*)$", re.M)
_POSITION = re.compile(r"\bat (?P<file>/\S*?/(?P<index>\d+)\.nix):(?P<line>\d+):(?P<column>\d+)")


@dataclass(frozen=True)
class NixSyntaxError:
    """The first of the given code fields that Nix cannot parse: its index, and why."""

    index: int
    message: str


def first_syntax_error(codes: Sequence[str]) -> NixSyntaxError | None:
    """Parse each of ``codes`` as a Nix file; the first one Nix rejects, else None (also when
    ``nix-instantiate`` is missing or fails without naming one of them)."""
    program = shutil.which(NIX_INSTANTIATE)
    if program is None or not codes:
        return None
    with tempfile.TemporaryDirectory(prefix="nixos-nspawn-parse-") as directory:
        files = [Path(directory) / f"{index}.nix" for index in range(len(codes))]
        for file, code in zip(files, codes, strict=True):
            file.write_text(code, encoding="utf-8")
        try:
            done = subprocess.run(
                [program, "--parse", *map(str, files)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0:
            return None
        return _located(done.stderr.decode("utf-8", errors="replace"), directory, len(codes))


def _located(stderr: str, directory: str, count: int) -> NixSyntaxError | None:
    error = _ERROR.search(stderr)
    position = _POSITION.search(stderr, error.end()) if error else None
    if error is None or position is None:
        return None
    index = int(position["index"])
    ours = os.path.realpath(directory)
    if os.path.realpath(Path(position["file"]).parent) != ours or index >= count:
        return None
    return NixSyntaxError(
        index,
        f"{error['message']} (line {position['line']}, column {position['column']} "
        "of the Nix code)",
    )
