"""The grammars of the names that checks and steps put into a command's argument list.

A value placed in a command line must not be read as an option: each name a parameter or the
topology gives is either checked here against the grammar of what it names (none of which
starts with ``-``) or placed after ``--`` in the command. Each function returns why its argument
is not such a name, or None.
"""

import re

UNIT_NAME_MAX = 255
"""Longest systemd unit name (systemd's ``UNIT_NAME_MAX`` is 256, with the NUL)."""

UNIT_TYPES = (
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
)
"""The suffixes of systemd unit names (``unit_type_from_string``)."""

_UNIT_CHARS = re.compile(r"[A-Za-z0-9:_.\\@-]*\Z")
"""systemd's ``VALID_CHARS`` and ``@`` (before the type suffix)."""

FILE_NAME_MAX = 255
"""Longest file name in bytes (``NAME_MAX``)."""

IFNAMSIZ = 15
"""Longest Linux interface name."""

_INTERFACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
LABEL_MAX = 63
"""Longest host name label, and so machine name."""
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z")


def unit_name_problem(name: str) -> str | None:
    """systemd's ``unit_name_is_valid``: a plain, template or instance name with a type
    suffix, of systemd's characters, at most 255 of them. Such a name may start with ``-``
    (``-.mount`` is the root file system's unit), so commands take unit names after ``--``."""
    if len(name) > UNIT_NAME_MAX:
        return f"not a systemd unit name: longer than {UNIT_NAME_MAX} characters"
    prefix, dot, suffix = name.rpartition(".")
    if not dot or not prefix or suffix not in UNIT_TYPES:
        return (
            "not a systemd unit name: it needs a name and a type suffix such as "
            f"'.service' (one of {', '.join(UNIT_TYPES)})"
        )
    if not _UNIT_CHARS.match(prefix):
        return (
            "not a systemd unit name: use letters, digits and ':', '-', '_', '.', '\\', "
            "'@' before the type suffix"
        )
    if prefix.startswith("@"):
        return "not a systemd unit name: a template or instance needs a name before '@'"
    return None


def interface_name_problem(name: str) -> str | None:
    """A Linux interface name as ``ip`` and networkd accept it, not starting with ``-``."""
    if not 0 < len(name) <= IFNAMSIZ:
        return f"not an interface name: 1 to {IFNAMSIZ} characters"
    if not _INTERFACE.match(name) or name.isdigit():
        return (
            "not an interface name: use letters, digits and '_', '.', '-' (not '.' or '-' "
            "first, not only digits)"
        )
    return None


def _label_problem(name: str, what: str, longest: int) -> str | None:
    if len(name) > longest or not _LABEL.match(name):
        return f"not a {what}: use at most {longest} letters, digits and '-' (not at either end)"
    return None


def machine_name_problem(name: str) -> str | None:
    """A container's machine name: one host name label."""
    return _label_problem(name, "machine name", LABEL_MAX)


def specialisation_name_problem(name: str) -> str | None:
    """A specialisation's name: a directory of ``/run/booted-system/specialisation``, named
    as the loader allows (a label of at most 255 characters, so a file name)."""
    return _label_problem(name, "specialisation name", FILE_NAME_MAX)
