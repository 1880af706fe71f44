"""A scenario's references to the user's own code, checked at load time.

``imports = ["../hosts/web.nix"]``: files (or directories with a ``default.nix``) of the
repository, relative to the scenario file. They become Nix path literals relative to the
generated file (:class:`harness.render.escape.NixPath`), so the flake's source carries them and
Nix tracks their changes. They are data, never code: anything but a plain relative path inside
the flake root (the nearest directory above the scenario with a ``flake.nix``) is refused.

``modules = ["web"]``: names of the flake's ``nixosModules``, rendered as attributes of the
generated test's ``userModules`` argument.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FLAKE_FILE = "flake.nix"
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
"""A ``modules`` entry: a plain Nix attribute name."""


def find_flake_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a ``flake.nix``."""
    for directory in (start, *start.parents):
        if (directory / FLAKE_FILE).is_file():
            return directory
    return None


def flake_root(scenario: Path) -> Path | None:
    """The nearest directory above the scenario file with a ``flake.nix`` (lexically: the
    place the scenario has in the repository, symlinks kept)."""
    return find_flake_root(Path(os.path.abspath(scenario)).parent)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _form_problem(written: str) -> str | None:
    """Why ``written`` is not a plain relative path, or None."""
    if not written:
        return "empty path: give a file relative to the scenario file"
    if not written.isprintable():
        return "control or invisible characters in a path"
    if written.startswith("/"):
        return f"{written!r} is absolute: give a path relative to the scenario file"
    if written.startswith("~"):
        return f"{written!r}: no home directories, give a path relative to the scenario file"
    if "${" in written:
        return f"{written!r}: no interpolation, give a plain relative path"
    if written.startswith("<") or written.endswith(">"):
        return f"{written!r}: no search path (<...>), give a path relative to the scenario file"
    if "://" in written:
        return f"{written!r} is a URL: give a file of the repository, relative to the scenario"
    return None


def import_target(written: str, scenario: Path, root: Path | None) -> Path | str:
    """The file or directory that the ``imports`` entry ``written`` of the scenario file
    ``scenario`` names, or why it cannot be imported (a message)."""
    problem = _form_problem(written)
    if problem is not None:
        return problem
    if root is None:
        return (
            f"the scenario is in no flake (no {FLAKE_FILE} above it), so there is no "
            "repository to import from"
        )
    base = os.path.abspath(root)
    target = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(scenario)), written))
    if not _within(target, base):
        return f"{written!r} leaves the flake root {base}"
    if not _within(os.path.realpath(target), os.path.realpath(base)):
        return f"{written!r} leaves the flake root {base} through a symbolic link"
    if os.path.isdir(target):
        if not os.path.isfile(os.path.join(target, "default.nix")):
            return f"{written!r} is a directory without default.nix"
    elif not os.path.exists(target):
        return f"{written!r}: no such file ({target})"
    elif not os.path.isfile(target):
        return f"{written!r} is not a regular file"
    return Path(target)


def module_problem(name: str) -> str | None:
    """Why ``name`` cannot name one of the flake's ``nixosModules``, or None."""
    if MODULE_NAME.match(name):
        return None
    return (
        f"{name!r} is not a plain attribute name (letters, digits, '_', '-', \"'\"; "
        "not starting with a digit or '-'): give the name of one of the flake's nixosModules"
    )
