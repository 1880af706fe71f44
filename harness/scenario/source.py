"""Read a scenario file's text, bounded: only a regular file, never blocking, at most 1 MiB.

Whatever sits under ``scenarios/`` with a ``.toml`` name is read through here, by the CLI and by
the pytest plugin alike (:func:`harness.loader.load_scenario`), so both report the same entries
as errors: a FIFO would block a plain ``open`` forever, a symlink to ``/dev/zero`` would be read
until memory runs out, a directory or a symlink loop cannot be read at all.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.scenario.model import ScenarioError, ValidationError

MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario file (the catalogue's are a few KiB)."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is (None for a regular one)."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return f"{kind}, not a regular file"


def read_source(path: Path) -> str:
    """The UTF-8 text of the scenario file ``path`` (symlinks followed); a file-level
    :class:`ScenarioError` if it is not a regular file, cannot be read, is larger than
    :data:`MAX_FILE_BYTES` or is not UTF-8.

    ``stat`` first, so a device is never opened (opening one can have effects); the open
    itself does not block (``O_NONBLOCK``: the entry may have become a FIFO since) and is
    checked again with ``fstat``.
    """

    def problem(message: str) -> ScenarioError:
        return ScenarioError((ValidationError(path, None, "(file)", message),))

    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind is not None:
            raise problem(kind)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            kind = _not_regular(os.fstat(fd).st_mode)
            if kind is not None:
                raise problem(kind)
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:  # ELOOP for a symlink loop, ENOENT for a dangling one, EACCES
        raise problem(f"cannot read: {error.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise problem(f"larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise problem(f"not UTF-8: {error}") from None
