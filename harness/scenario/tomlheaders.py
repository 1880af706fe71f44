"""The lines of a top-level array of tables (``[[expect]]``), found without the full key scan.

A valid scenario needs only the line of each expectation (its test item's location); every other
line is needed only for an error message. :mod:`harness.scenario.tomlpos` tokenizes the whole
document in Python, which costs about twice as much as parsing it with ``tomllib``; this module lets
the loader run that scan only for a file with errors, or when the quick answer here is not certain.

On a document ``tomllib`` accepted, one regular expression skips comments and strings (so
nothing inside them counts) and sees every bracket; a ``[[KEY]]`` that starts a line outside any
array value is a header of the top-level array ``KEY``. Other spellings (escapes in a quoted
key, ``KEY = [ ... ]``) are not seen: the caller compares the count with the parsed array and
falls back to the full scan when they differ.
"""

from __future__ import annotations

import re
from functools import cache

_SKIP = (
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}'  # multi-line basic string (up to 2 quotes end it)
    r"|'''[\s\S]*?'{3,5}"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # basic string
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*"  # comment
)


@cache
def _pattern(key: str) -> re.Pattern[str]:
    spellings = "|".join(re.escape(form) for form in (key, f'"{key}"', f"'{key}'"))
    header = rf"^[ \t]*\[\[[ \t]*(?:{spellings})[ \t]*\]\]"
    return re.compile(rf"(?P<header>{header})|(?P<bracket>[\[\]])|{_SKIP}", re.MULTILINE)


def array_table_lines(source: str, key: str) -> list[int]:
    """The line of each ``[[key]]`` header of the valid TOML document ``source``, in order."""
    lines: list[int] = []
    depth = 0  # open brackets of array values and table headers
    line, counted = 1, 0
    for match in _pattern(key).finditer(source):
        kind = match.lastgroup
        if kind == "bracket":
            depth += 1 if match.group() == "[" else -1
        elif kind == "header" and depth == 0:
            line += source.count("\n", counted, match.start())
            counted = match.start()
            lines.append(line)
    return lines
