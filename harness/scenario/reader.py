"""The located-error reader: walks a scenario's TOML data and collects every problem of the file,
each with the file, the dotted key path and the line of that key (from
:mod:`harness.scenario.tomlpos`), so one run shows everything to fix. It also holds the one TOML
parse that every pass over a scenario's text goes through (:func:`parse_toml`)."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from harness.checks.spec import describe, type_name
from harness.scenario.model import ScenarioError, ValidationError, visible
from harness.scenario.nixparse import first_syntax_error
from harness.scenario.nixvalues import NIX_INT_MAX, NIX_INT_MIN
from harness.scenario.tomlheaders import array_table_lines
from harness.scenario.tomlpos import KeyLines, KeyPath, key_lines
from harness.scenario.unit_values import setting_key_problem, value_problem

IFNAMSIZ = 15
"""Longest Linux interface name; the host sides are ``ve-<container>`` and ``vz-<zone>``."""

MAX_DEPTH = 32
"""Deepest key path (tables and arrays) a scenario may have; its own structure needs 8. The
loader and the renderer walk values recursively, so this keeps them far from Python's
recursion limit (``tomllib`` itself fails at a few hundred levels)."""

NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")

T = TypeVar("T")


def format_key(path: KeyPath) -> str:
    """A key path as the user writes it: ``containers.web.binds."/var/lib/web"``, ``expect[2]``.

    Quoted keys use TOML's escapes, so a control or other invisible character in a key is
    visible in the message.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.match(part) else _quoted_key(part)
            out += ("." if out else "") + text
    return out or "(document)"


def _quoted_key(key: str) -> str:
    escaped = "".join("\\" + char if char in '"\\' else char for char in key)
    return f'"{visible(escaped)}"'


def suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(known)})" if known else ""


class Reader:
    """Accumulates the errors of one file while the loader walks its data."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.errors: list[ValidationError] = []
        self.unrepresentable: set[KeyPath] = set()
        self.nix_code: list[tuple[KeyPath, str]] = []
        """Every Nix code field that passed the other checks, for :meth:`check_nix`."""

    @cached_property
    def lines(self) -> KeyLines:
        """The line of every key: a full scan, so only made for an error (or see
        :meth:`array_lines`)."""
        return key_lines(self.source)

    def array_lines(self, name: str, count: int) -> Sequence[int | None]:
        """The line of each of the ``count`` entries of the top-level array ``name``: its
        ``[[name]]`` headers when the quick search finds them all, else from the full scan."""
        headers = array_table_lines(self.source, name)
        if len(headers) == count:
            return headers
        return [self.lines.line((name, index)) for index in range(count)]

    def error(self, key: KeyPath, message: str) -> None:
        self.errors.append(
            ValidationError(self.path, self.lines.line(key), format_key(key), message)
        )

    def representable(self, value: object, key: KeyPath = ()) -> None:
        """Report every key and value in ``value`` that has no exact Nix (or Python literal)
        form: NUL in a key or string, an integer beyond 64 bits. Run on the whole document
        first, so no such value reaches rendering wherever it is; :meth:`get` then skips them
        (already reported) and the check parameters' own NUL problems are not repeated."""
        problem = None
        if isinstance(value, dict):
            for name, item in value.items():
                if "\0" in name:
                    self.error((*key, name), "keys cannot contain NUL characters")
                    self.unrepresentable.add((*key, name))
                self.representable(item, (*key, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.representable(item, (*key, index))
        elif isinstance(value, str) and "\0" in value:
            problem = "strings cannot contain NUL characters"
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not NIX_INT_MIN <= value <= NIX_INT_MAX
        ):
            problem = (
                f"integer {value} does not fit Nix's 64-bit integers ({NIX_INT_MIN}..{NIX_INT_MAX})"
            )
        if problem is not None and key not in self.unrepresentable:
            self.error(key, problem)
            self.unrepresentable.add(key)

    def table(
        self, value: object, key: KeyPath, allowed: Sequence[str] | None = None
    ) -> Mapping[str, object] | None:
        """``value`` if it is a table (reporting keys not in ``allowed``), else None."""
        if not isinstance(value, dict):
            self.error(key, f"expected a table, got {describe(value)}")
            return None
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    self.error((*key, name), "unknown key" + suggest(name, allowed))
        return value

    def get(
        self,
        table: Mapping[str, object],
        key: KeyPath,
        name: str,
        kind: type[T],
        *,
        required: bool = False,
    ) -> T | None:
        """``table[name]`` checked to be of ``kind``; None (and an error if required) if not."""
        if name not in table:
            if required:
                self.error((*key, name), "required key is missing")
            return None
        value = table[name]
        # TOML booleans are Python bools, which are ints too: `timeout = true` is no number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error((*key, name), f"expected {type_name(kind)}, got {describe(value)}")
            return None
        if (*key, name) in self.unrepresentable:
            return None
        return value

    def unit_value(self, key: KeyPath, problem: str | None) -> None:
        """Report ``problem`` of a value bound for a unit file (NUL was reported already)."""
        if problem is not None and key not in self.unrepresentable:
            self.error(key, problem)

    def strings(
        self, table: Mapping[str, object], key: KeyPath, name: str
    ) -> tuple[str, ...] | None:
        items = self.get(table, key, name, list)
        if items is None:
            return None
        valid = True
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.error((*key, name, index), f"expected a string, got {describe(item)}")
                valid = False
        return tuple(items) if valid else None

    def settings(self, value: object, key: KeyPath) -> object:
        """Free-form networkd settings: tables, arrays, strings, integers and booleans only
        (the values Nix and the module's option types can take exactly), with setting names
        as keys and strings that a unit file line can hold."""
        if isinstance(value, dict):
            out = {}
            for name, item in value.items():
                problem = setting_key_problem(name)
                if problem is None:
                    out[name] = self.settings(item, (*key, name))
                else:
                    self.unit_value((*key, name), problem)
            return out
        if isinstance(value, list):
            return [self.settings(item, (*key, index)) for index, item in enumerate(value)]
        if isinstance(value, str):
            self.unit_value(key, value_problem(value))
        elif not isinstance(value, int | bool):
            self.error(
                key,
                f"unsupported value {describe(value)}: use a string, integer, "
                "boolean, array or table",
            )
        return value

    def check_nix(self) -> None:
        """Report the first Nix code field (in file order) that Nix cannot parse."""
        if first_syntax_error([code for _, code in self.nix_code]) is None:
            return  # the usual case, without the key positions (found by scanning the file)
        fields = sorted(self.nix_code, key=lambda field: self.lines.line(field[0]) or 0)
        found = first_syntax_error([code for _, code in fields])
        if found is not None:
            self.error(fields[found.index][0], f"not valid Nix: {found.message}")

    def name(self, name: str, key: KeyPath, what: str, interface: str) -> bool:
        """Whether ``name`` can name a machine and the host interface ``interface``."""
        ok = True
        if not NAME.match(name):
            self.error(
                key,
                f"invalid {what} name {name!r}: use letters, digits and '-' (not at either end)",
            )
            ok = False
        if len(interface) > IFNAMSIZ:
            self.error(
                key,
                f"{what} name {name!r} is too long: the host interface "
                f"{interface!r} would exceed {IFNAMSIZ} characters "
                f"(at most {IFNAMSIZ - (len(interface) - len(name))} for the name)",
            )
            ok = False
        return ok


def parse_toml(path: Path, source: str) -> dict[str, object]:
    """The TOML document ``source`` of ``path``, or :class:`ScenarioError` with its syntax error
    located; also for a document nested too deeply for the parser, or for any walk of the data
    (deeper than :data:`MAX_DEPTH`)."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        line = int(match.group(1)) if match else 1
        raise ScenarioError(
            (ValidationError(path, line, "(syntax)", f"invalid TOML: {error}"),)
        ) from None
    except RecursionError:
        raise ScenarioError(
            (
                ValidationError(
                    path,
                    nesting_line(source),
                    "(syntax)",
                    f"tables and arrays nested too deeply to parse (at most {MAX_DEPTH} levels)",
                ),
            )
        ) from None
    deep = too_deep(data)
    if deep is not None:  # stop here: every later step walks the data recursively
        reader = Reader(path, source)
        reader.error(deep, f"nested too deeply: at most {MAX_DEPTH} levels of tables and arrays")
        raise ScenarioError(tuple(reader.errors))
    return data


def nesting_line(source: str) -> int | None:
    """The line where brackets and braces outside strings and comments first open more than
    :data:`MAX_DEPTH` levels: where a document too deep for ``tomllib`` goes too deep. None if
    they never do. One linear pass: the text may be malformed anywhere."""
    depth, at, end = 0, 0, len(source)
    while at < end:
        char = source[at]
        if char == "#":
            newline = source.find("\n", at)
            at = end if newline == -1 else newline
            continue
        if char in "\"'":
            quote = char * 3 if source.startswith(char * 3, at) else char
            at = _string_end(source, at + len(quote), quote)
            continue
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return source.count("\n", 0, at) + 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        at += 1
    return None


def _string_end(source: str, at: int, quote: str) -> int:
    """Where the string whose text starts at ``at`` ends after its closing ``quote``: basic
    strings (``"``) have backslash escapes; a one-line string ends at its line's end at the
    latest."""
    escapes = quote[0] == '"'
    while at < len(source):
        if escapes and source[at] == "\\":
            at += 2
        elif source.startswith(quote, at):
            return at + len(quote)
        elif source[at] == "\n" and len(quote) == 1:
            return at
        else:
            at += 1
    return at


def too_deep(data: object) -> KeyPath | None:
    """The first key path longer than :data:`MAX_DEPTH` in ``data``, found without recursion."""
    stack: list[tuple[KeyPath, object]] = [((), data)]
    while stack:
        key, value = stack.pop()
        if len(key) > MAX_DEPTH:
            return key
        if isinstance(value, dict):
            stack.extend(((*key, name), item) for name, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*key, index), item) for index, item in enumerate(value))
    return None


def numbered(name: str, seen: dict[str, int]) -> str:
    """``name`` the first time, ``name#2``, ``name#3`` ... when it repeats (counted in ``seen``),
    so every result and step of a file has an id of its own."""
    count = seen[name] = seen.get(name, 0) + 1
    return name if count == 1 else f"{name}#{count}"
