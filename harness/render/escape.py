"""The one place that turns Python values into Nix expressions and Python literals.

Scenario files are user input, and the rendered NixOS tests contain both Nix (the test module)
and Python (its testScript). Every value that reaches generated text goes through a function of
this module, so that no value can end a string early, interpolate (``${...}``), or otherwise
become code. The only exception is by design: :class:`NixCode` wraps the fields that *are* Nix
code (the ``config`` keys): it travels as an escaped string into a file of its own that the
generated module imports, so it is exactly one expression and cannot reach the text around it;
the scenario format documents it as code. :class:`PrebuiltSystem` is such code used as the
module of a NixOS system that the generated test builds. A scenario's ``imports`` and ``modules``
refer to the user's code without being code: :class:`NixPath` becomes a path literal (or a path
built from an escaped string), :class:`UserModule` an escaped attribute of ``userModules``.

The property tests in ``tests/unit/scenario/test_escape.py`` prove the round trip
Python → Nix text → ``nix-instantiate --eval --strict --json`` → Python for arbitrary values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.scenario.nixvalues import (
    NIX_INT_MAX,
    NIX_INT_MIN,
    NixCode,
    PrebuiltSystem,
)
from harness.scenario.unit_values import MODULE_SYSTEM_KEYS

_BARE_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
# Keywords cannot be bare attribute names (``or`` is only special in some positions, but
# quoting it is always correct).
_NIX_KEYWORDS = frozenset(
    {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"}
)

_INDENT = "  "

PREBUILT_MODULES = "nixosModules.default"
"""What a :class:`PrebuiltSystem` is built with besides its own module: both sides of
nixos-nspawn, as a user builds a system for ``path`` (``nixosModules`` is the generated test's
argument)."""


CODE_FILE_NAME = "scenario-config.nix"
"""The store name of the file that holds a :class:`NixCode` (see :func:`nix_code`)."""


@dataclass(frozen=True)
class NixPath:
    """A file of the user's repository that a generated module imports, as a path relative to
    the directory of the generated file (POSIX, normalised: ``../../hosts/web.nix``). Nix
    resolves it where the file is read: in the flake's source for a committed test, in the
    working tree for a fresh rendering (see :func:`nix_path`)."""

    relative: str


USER_MODULES = "userModules"
"""The generated test's argument holding the user's flake's ``nixosModules``."""


@dataclass(frozen=True)
class UserModule:
    """``userModules.<name>``: a module of the user's flake by name; ``missing`` is the message
    of the evaluation error when the flake has no such module."""

    name: str
    missing: str


class NixEscapeError(ValueError):
    """A value that has no Nix representation (NUL in a string, a float, an int out of range)."""


def _check_no_nul(text: str) -> None:
    if "\0" in text:
        raise NixEscapeError("Nix strings cannot contain NUL characters")


def nix_string(text: str) -> str:
    """A double-quoted Nix string literal denoting exactly ``text``.

    Every ``$`` is escaped (not just ``${``), which rules out interpolation whatever follows.
    """
    _check_no_nul(text)
    out = ['"']
    for char in text:
        if char in '\\"$':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _indented_string_safe(text: str) -> bool:
    """Whether ``text`` survives Nix's indentation stripping when written as a ``''`` string.

    The generated form prefixes every non-empty line with the same indentation; Nix then strips
    the smallest indentation of all lines that are not whitespace-only. That is exactly our
    prefix when some line starts with a non-space character. A carriage return is excluded
    because Nix versions differ in how they treat it in ``''`` strings.
    """
    if not text.endswith("\n") or "\r" in text or "\0" in text:
        return False
    lines = text[:-1].split("\n")
    if lines[0].strip(" ") == "":
        # A whitespace-only first line directly after the opening '' is dropped by Nix.
        return False
    return any(line and not line.startswith(" ") for line in lines if line.strip(" "))


# What must be escaped in a line of a ``''`` string, matched left to right: ``$`` (no
# interpolation), a pair of quotes (else it closes the string), and a lone quote at the end of
# the line or before ``$`` (else it would join the closing ``''`` or the ``''$`` escape
# emitted here); any other lone quote is literal.
_INDENTED_SPECIAL = re.compile(r"''|'(?=\$|\Z)|\$")
_INDENTED_ESCAPES = {"$": "''$", "''": "'''", "'": "''\\'"}


def _escape_indented_line(line: str) -> str:
    return _INDENTED_SPECIAL.sub(lambda match: _INDENTED_ESCAPES[match.group()], line)


def nix_multiline_string(text: str, indent: int = 0) -> str:
    """A Nix string literal for ``text``, as a readable ``''`` block when that is exact.

    Used for the testScript, so a human can read the generated test. Falls back to
    :func:`nix_string` when the text cannot be represented exactly as an indented string.
    """
    _check_no_nul(text)
    if not _indented_string_safe(text):
        return nix_string(text)
    prefix = _INDENT * (indent + 1)
    body = [prefix + _escape_indented_line(line) if line else "" for line in text[:-1].split("\n")]
    return "''\n" + "\n".join(body) + "\n" + _INDENT * indent + "''"


def nix_attr_name(name: str) -> str:
    """An attribute name: bare when Nix allows it, else a quoted string."""
    if _BARE_ATTR.match(name) and name not in _NIX_KEYWORDS:
        return name
    return nix_string(name)


def nix_int(value: int) -> str:
    """An integer expression; negative values are parenthesized (``[ 1 -2 ]`` is a subtraction)."""
    if not NIX_INT_MIN <= value <= NIX_INT_MAX:
        raise NixEscapeError(f"integer {value} does not fit Nix's 64-bit integers")
    if value == NIX_INT_MIN:
        return f"({NIX_INT_MIN + 1} - 1)"
    return f"({value})" if value < 0 else str(value)


def nix_code(code: NixCode, indent: int = 0) -> str:
    """User-written Nix code as exactly one expression: ``(import (builtins.toFile ...))``.

    Nix parses a file as one whole expression, so code such as ``{ }); testScript = ...; x = (``
    cannot close a bracket of the generated module and add to it: it fails to parse on its own.
    The text reaches the file through a string literal, byte for byte (indentation, strings and
    comments included), and stays readable in the generated module as a ``''`` block.
    """
    text = code.code.strip("\n") + "\n"
    contents = nix_multiline_string(text, indent)
    return f"(import (builtins.toFile {nix_string(CODE_FILE_NAME)} {contents}))"


_PATH_LITERAL = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*\Z")
"""A relative path that Nix's lexer reads as one path literal (its PATH_CHAR set)."""


def nix_path(path: NixPath) -> str:
    """A path expression for ``path.relative``: a literal (``../../hosts/web.nix``,
    ``./web.nix``) when every character may stand in one, else ``(./. + "/name with space")``,
    which Nix normalises (``..`` included) to the same path."""
    relative = path.relative
    if relative.startswith("/") or not relative:
        raise NixEscapeError(f"not a relative path: {relative!r}")
    if _PATH_LITERAL.match(relative):
        return relative if relative.startswith("../") else f"./{relative}"
    return f"(./. + {nix_string('/' + relative)})"


def user_module(module: UserModule) -> str:
    """``(userModules.<name> or (throw "<missing>"))``: the module, or a clear evaluation error."""
    return f"({USER_MODULES}.{nix_attr_name(module.name)} or (throw {nix_string(module.missing)}))"


def to_nix(value: object, indent: int = 0) -> str:
    """A Nix expression denoting ``value``.

    Supports str, bool, int, NixCode, PrebuiltSystem, NixPath, UserModule, sequences
    (lists/tuples) and mappings with str keys; the result is pretty-printed for ``indent``
    levels of two spaces. Anything else (floats, dates, None) raises :class:`NixEscapeError`:
    the loader rejects such values with a clear message before rendering.
    """
    if isinstance(value, NixCode):
        return nix_code(value, indent)
    if isinstance(value, PrebuiltSystem):
        return f"(pkgs.nixos [ {PREBUILT_MODULES} {nix_code(value.module, indent)} ]).toplevel"
    if isinstance(value, NixPath):
        return nix_path(value)
    if isinstance(value, UserModule):
        return user_module(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return nix_int(value)
    if isinstance(value, str):
        return nix_string(value)
    if isinstance(value, Mapping):
        return _nix_attrset(value, indent)
    if isinstance(value, Sequence):
        return _nix_list(value, indent)
    raise NixEscapeError(f"no Nix representation for a value of type {type(value).__name__}")


def _nix_attrset(value: Mapping[object, object], indent: int) -> str:
    if not value:
        return "{ }"
    inner = _INDENT * (indent + 1)
    lines = ["{"]
    for key, item in value.items():
        path = [key]
        # A set of one attribute is written as a dotted path, as by hand:
        # `network.veth.zone = "lab";` rather than three nested sets (the same value in Nix).
        while isinstance(item, Mapping) and len(item) == 1:
            [(key, item)] = item.items()
            path.append(key)
        names = []
        for name in path:
            if not isinstance(name, str):
                raise NixEscapeError(f"attribute names must be strings, not {type(name).__name__}")
            if name in MODULE_SYSTEM_KEYS:
                raise NixEscapeError(
                    f"attribute name {name!r} would make the attribute set more than data in Nix"
                )
            names.append(nix_attr_name(name))
        dotted = ".".join(names)
        lines.append(f"{inner}{dotted} = {to_nix(item, indent + 1)};")
    lines.append(_INDENT * indent + "}")
    return "\n".join(lines)


def _nix_list(value: Sequence[object], indent: int) -> str:
    if not value:
        return "[ ]"
    items = [to_nix(item, indent + 1) for item in value]
    flat = "[ " + " ".join(items) + " ]"
    if len(flat) <= 60 and "\n" not in flat:
        return flat
    inner = _INDENT * (indent + 1)
    return "[\n" + "\n".join(inner + item for item in items) + "\n" + _INDENT * indent + "]"


def nix_comment(text: str) -> str:
    """``text`` as Nix line comments (every line prefixed with ``# ``)."""
    return "\n".join(("# " + line).rstrip() for line in text.splitlines() or [""])


_PY_PLAIN = re.compile(r"[^\x00-\x1f\x7f-\U0010ffff\\\"'${}]*\Z")
"""Text that :func:`py_string` writes unchanged: printable ASCII but ``\\ " ' $ { }``."""


def _py_escape(code: int) -> str:
    """How :func:`py_string` writes the character ``code``."""
    char = chr(code)
    if char in '\\"':
        return "\\" + char
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char in "'${}" or code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x7F:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class _PySpellings(dict[int, str]):
    """The spelling of every character met so far, for ``str.translate``."""

    def __missing__(self, code: int) -> str:
        self[code] = spelling = _py_escape(code)
        return spelling


_PY_SPELLINGS = _PySpellings()


def py_string(text: str) -> str:
    """A Python string literal for ``text``: double-quoted, ASCII only, on one line.

    Besides the usual escapes it spells ``'``, ``$`` and ``{`` as hex escapes, so the literal
    never contains anything special to the Nix ``''`` string that carries the testScript.
    """
    if _PY_PLAIN.match(text):
        return f'"{text}"'
    return '"' + text.translate(_PY_SPELLINGS) + '"'


def to_python(value: object) -> str:
    """A Python literal (for ``ast.literal_eval``) denoting ``value``.

    Supports None, bool, int, str, tuples, lists and mappings with literal keys.
    """
    if isinstance(value, str):  # first: by far the most common
        return py_string(value)
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({to_python(value[0])},)"
        return "(" + ", ".join(to_python(item) for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(to_python(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(f"{to_python(key)}: {to_python(item)}" for key, item in value.items())
            + "}"
        )
    raise TypeError(f"no Python literal for a value of type {type(value).__name__}")
