"""What scenario data may put into a systemd unit file, and which keys Nix would not take as data.

The module writes binds, the prebuilt ``path`` and the networkd settings into unit files, and
nixpkgs writes every setting as a verbatim ``Key=value`` line. The module refuses values that
would end, continue or trim such a line (``nix/unit-values.nix``); the loader applies the same
rules, so a scenario author learns it from ``validate`` with the file and line, not from a VM
build. Each function returns why its argument cannot be written, or None.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRAILING_BACKSLASHES = re.compile(r"\\+\Z")
_SETTING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")
_SPLITS_PARAMETERS = re.compile(r"[ \t\"']")

MODULE_SYSTEM_KEYS = frozenset({"_type", "outPath", "__toString", "__functor"})
"""Keys that make a Nix attribute set more than data: ``_type`` is a module-system property
(mkOverride, mkIf, mkMerge...), ``outPath`` and ``__toString`` make it a string, ``__functor``
a function."""


def value_problem(text: str) -> str | None:
    """Why ``text`` cannot be a unit file value as it is (the module's ``unitValueProblem``)."""
    controls = _CONTROL.findall(text)
    if controls:
        # The lowest one, as the module names it.
        return (
            f"contains the control character U+{ord(min(controls)):04X}, which would "
            "end or break the line in the unit file"
        )
    trailing = _TRAILING_BACKSLASHES.search(text)
    if trailing is not None and len(trailing.group()) % 2 == 1:
        return (
            "ends in a backslash, which would continue the line in the unit file onto the "
            "next directive"
        )
    if text != text.strip(" "):
        return "starts or ends with whitespace, which systemd strips from unit file values"
    return None


FILE_NAME_MAX = 255
"""Longest file name (a path component) in bytes, Linux' ``NAME_MAX``."""
PATH_MAX = 4095
"""Longest path in bytes, Linux' ``PATH_MAX`` without the NUL."""


def path_problem(path: str) -> str | None:
    """Why ``path`` does not name what it reads as (the module's ``pathProblem``): the paths
    the module writes are "below" a directory or name one file, so no empty (``//``, a
    trailing ``/``), ``.`` or ``..`` component, and within the kernel's length limits."""
    components = path.split("/")
    if "//" in path or (path.endswith("/") and path != "/"):
        return "has an empty component (`//`, or `/` at the end): write the path without them"
    if any(component in (".", "..") for component in components):
        return (
            "has a `.` or `..` component, which can lead out of the directory it names: "
            "write the path without them"
        )
    if any(len(component.encode()) > FILE_NAME_MAX for component in components):
        return f"has a component longer than {FILE_NAME_MAX} bytes, which no file name can be"
    if len(path.encode()) > PATH_MAX:
        return f"is longer than {PATH_MAX} bytes, which no path can be"
    return None


def bind_path_problem(path: str) -> str | None:
    """A bind path is written with ``\\`` and ``:`` escaped, so it may end in a backslash."""
    return value_problem(path.replace("\\", "\\\\")) or path_problem(path)


def bind_option_problem(option: str) -> str | None:
    if "," in option or ":" in option:
        return (
            "contains ',' or ':', which separate bind options and paths in Bind=: "
            "give one option per entry"
        )
    return value_problem(option)


def parameters_problem(path: str) -> str | None:
    """The prebuilt ``path`` becomes ``Parameters=<path>/init``: nspawn splits and unquotes it."""
    problem = value_problem(path)
    if problem is None and _SPLITS_PARAMETERS.search(path):
        problem = (
            "contains whitespace or quotes, which Parameters= in the .nspawn file would "
            "split or remove"
        )
    return problem or path_problem(path)


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a key of a table that becomes Nix data."""
    if key in MODULE_SYSTEM_KEYS:
        return (
            f"{key!r} is special to Nix (a module-system property, a string or a function), "
            "not data: scenario tables cannot use it"
        )
    return None


def setting_key_problem(key: str) -> str | None:
    """A networkd settings key is written as it is before ``=``: it must be a setting name."""
    problem = key_problem(key)
    if problem is None and not _SETTING_NAME.match(key):
        problem = (
            "not a networkd setting name (it is written into the unit file as it is): "
            "use letters, digits and '-', starting with a letter"
        )
    return problem
