"""harness.scenario.tomlpos on generated TOML: every key path is found on the line it was written.

A small writer emits random data in randomly chosen TOML spellings (bare, basic and literal
keys; table headers, dotted keys and inline tables; arrays on one or many lines; arrays of
tables; multi-line strings) and records the line of every key path it writes. The document must
parse with tomllib to the same data, and the locator must report the recorded lines.
"""

import re
import tomllib
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.scenario.tomlpos import KeyPath, key_lines

BARE = re.compile(r"[A-Za-z0-9_-]+\Z")
TRICKY = ["#", "=", "[", "]", "{", "}", ".", ",", '"', "'", "\\", "\n", "\t", "é", " ", "a"]

keys = st.one_of(
    st.sampled_from(["a", "b-c", "d_1", "check", "expect"]),
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=5).map("".join),
)
strings = st.lists(st.sampled_from([*TRICKY, '"""', "'''"]), max_size=6).map("".join)
scalars = st.one_of(strings, st.integers(-5, 5), st.booleans())
tables = st.recursive(
    st.dictionaries(keys, scalars, max_size=3),
    lambda inner: st.dictionaries(
        keys,
        st.one_of(
            scalars, inner, st.lists(scalars, max_size=3), st.lists(inner, min_size=1, max_size=2)
        ),
        max_size=3,
    ),
    max_leaves=10,
)


def basic(text: str) -> str:
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out) + '"'


@dataclass
class Writer:
    draw: st.DrawFn
    text: str = ""
    lines: dict[KeyPath, int] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.text.count("\n") + 1

    def key(self, name: str) -> str:
        style = self.draw(st.sampled_from(["bare", "basic", "literal"]))
        if style == "bare" and BARE.match(name):
            return name
        if style == "literal" and not re.search(r"['\x00-\x1f\x7f]", name):
            return f"'{name}'"
        return basic(name)

    def scalar(self, value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        assert isinstance(value, str)
        style = self.draw(st.sampled_from(["basic", "multi-line", "multi-line literal"]))
        # Multi-line strings: their newlines move every later key down. (A newline right after
        # the opening quotes would be trimmed.)
        if style == "multi-line" and not value.startswith("\n"):
            # Escape each quote or not (an escaped quote before the closing ones included),
            # so long as no three stay together and none is last.
            out, raw_quotes = "", 0
            for char in value:
                if char == '"' and raw_quotes < 2 and self.draw(st.booleans()):
                    out, raw_quotes = out + char, raw_quotes + 1
                    continue
                raw_quotes = 0
                if char in '"\\':
                    out += "\\" + char
                else:
                    out += char if ord(char) >= 0x20 or char in "\n\t" else basic(char)[1:-1]
            return f'"""{out}"""'
        literal_ok = not re.search(r"'''|'\Z|\A\n|[\x00-\x08\x0b-\x1f\x7f]", value)
        if style == "multi-line literal" and literal_ok:
            return f"'''{value}'''"
        return basic(value)

    def emit(self, path: KeyPath, value: object) -> None:
        """Append the inline text of ``value``, recording the lines of nested paths."""
        if isinstance(value, dict):
            self.text += "{"
            for index, (name, item) in enumerate(value.items()):
                self.text += ", " if index else " "
                self.lines[(*path, name)] = self.line
                self.text += f"{self.key(name)} = "
                self.emit((*path, name), item)
            self.text += " }" if value else "}"
        elif isinstance(value, list):
            multiline = self.draw(st.booleans())
            self.text += "["
            for index, item in enumerate(value):
                self.text += "\n" if multiline else ", " if index else ""
                self.lines[(*path, index)] = self.line
                self.emit((*path, index), item)
                self.text += "," if multiline else ""
            self.text += "\n]" if multiline else "]"
        else:
            self.text += self.scalar(value)

    def keyval(self, prefix: str, path: KeyPath, value: object) -> None:
        """``prefix = value`` on a line of its own (``prefix`` is the spelled key path)."""
        self.text += f"{prefix} = "
        self.emit(path, value)
        self.text += "\n"

    def table(self, path: KeyPath, spelled: list[str], data: dict[str, object]) -> None:
        sections: list[tuple[str, object]] = []
        for name, value in data.items():
            child = (*path, name)
            is_aot = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            mode = self.draw(st.sampled_from(["section", "dotted", "inline"]))
            if is_aot or (isinstance(value, dict) and mode == "section"):
                sections.append((name, value))
            elif isinstance(value, dict) and mode == "dotted" and value:
                self.dotted(child, self.key(name), value)
            else:
                self.lines[child] = self.line
                self.keyval(self.key(name), child, value)
        for name, value in sections:
            child = (*path, name)
            names = [*spelled, self.key(name)]
            if isinstance(value, dict):
                self.lines[child] = self.line
                self.text += "[" + ".".join(names) + "]\n"
                self.table(child, names, value)
            else:
                assert isinstance(value, list)
                for index, item in enumerate(value):
                    self.lines.setdefault(child, self.line)
                    self.lines[(*child, index)] = self.line
                    self.text += "[[" + ".".join(names) + "]]\n"
                    assert isinstance(item, dict)
                    # Inside an array of tables, sub-tables are written inline or dotted only.
                    for sub, sub_value in item.items():
                        self.lines[(*child, index, sub)] = self.line
                        self.keyval(self.key(sub), (*child, index, sub), sub_value)

    def dotted(self, path: KeyPath, spelled: str, data: dict[str, object]) -> None:
        self.lines.setdefault(path, self.line)
        for name, value in data.items():
            child = (*path, name)
            key = f"{spelled}.{self.key(name)}"
            if isinstance(value, dict) and value:
                self.dotted(child, key, value)
            else:
                self.lines[child] = self.line
                self.keyval(key, child, value)


@settings(max_examples=300, deadline=None)
@given(tables, st.data())
def test_every_written_key_is_found_on_its_line(
    data: dict[str, object], draw: st.DataObject
) -> None:
    writer = Writer(draw.draw)
    writer.table((), [], data)
    assert tomllib.loads(writer.text) == data, writer.text
    found = key_lines(writer.text).lines
    for path, line in writer.lines.items():
        assert found.get(path) == line, (path, writer.text)
