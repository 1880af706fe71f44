"""Syntax check of a scenario's Nix code fields with ``nix-instantiate --parse``.

The ``config`` fields are Nix code by design and are inserted as they are; without this check a
typo there shows up only when a VM test is built, as a Nix error naming a generated file. When
``nix-instantiate`` is on ``PATH``, validation parses every such field, each as a file of its
own (as the generated test imports it). A subprocess per scenario would dominate the
collection of a large catalogue (about 50 ms each), so :func:`parse_all` parses the code of many
scenarios in one ``nix-instantiate`` run first and remembers each code's verdict; Nix's parser
stops at the first file it cannot parse, so a run after a broken file goes on with the files
after it. Without Nix, or when Nix itself fails for another reason, the check is skipped
quietly: the build would still report the error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

NIX_INSTANTIATE = "nix-instantiate"
TIMEOUT_SECONDS = 30
"""Parsing takes milliseconds; this only stops a wedged Nix from stalling validation."""
BATCH = 500
"""Codes per ``nix-instantiate`` run (their file names must fit on one command line)."""

_ERROR = re.compile(r"^error: (?P<message>.*)$", re.M)
_POSITION = re.compile(r"\bat (?P<file>/\S*?/(?P<index>\d+)\.nix):(?P<line>\d+):(?P<column>\d+)")


@dataclass(frozen=True)
class NixSyntaxError:
    """The first of the given code fields that Nix cannot parse: its index, and why."""

    index: int
    message: str


_verdicts: dict[str, str | None] = {}
"""Every code parsed in this process: Nix's error message, or None if it parses."""


def first_syntax_error(codes: Sequence[str]) -> NixSyntaxError | None:
    """Parse each of ``codes`` as a Nix file; the first one Nix rejects, else None (also when
    ``nix-instantiate`` is missing or fails without naming one of them)."""
    parse_all(codes)
    for index, code in enumerate(codes):
        message = _verdicts.get(code)
        if message is not None:
            return NixSyntaxError(index, message)
    return None


def parse_all(codes: Iterable[str]) -> None:
    """Parse the codes not parsed before and remember each verdict: one ``nix-instantiate``
    run per :data:`BATCH` codes, and one more after each broken code."""
    pending = list(dict.fromkeys(code for code in codes if code not in _verdicts))
    program = shutil.which(NIX_INSTANTIATE) if pending else None
    while pending and program is not None:
        batch = pending[:BATCH]
        found = _first_broken(program, batch)
        if found is None:  # Nix failed without naming a file: leave the rest unchecked
            return
        _verdicts.update(dict.fromkeys(batch[: found.index]))
        if found.index == len(batch):
            pending = pending[len(batch) :]
        else:
            _verdicts[batch[found.index]] = found.message
            pending = pending[found.index + 1 :]


def _first_broken(program: str, codes: Sequence[str]) -> NixSyntaxError | None:
    """One run over ``codes``: the first broken one, index ``len(codes)`` if none is, or None
    if Nix could not be run or failed without naming one of them."""
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
            return NixSyntaxError(len(codes), "")
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
