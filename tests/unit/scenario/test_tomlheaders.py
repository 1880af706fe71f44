"""harness.scenario.tomlheaders: the quick ``[[expect]]`` lines agree with the full scan, or are
silent.

Generated documents (tomlpos' property-test writer, any spelling of ``expect``, strings and
arrays with brackets and quotes around) and hand-made traps: every header is found on its line,
nothing else counts. Where a spelling is not seen, the count differs and the loader scans fully.
"""

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st
from test_tomlpos_property import Writer, tables

from harness.scenario.load import parse_scenario
from harness.scenario.tomlheaders import array_table_lines

TRAPS = '''\
description = """
[[expect]]
an escaped quote \\""" still inside [[expect]]
"""
literal = \'\'\'
[[expect]]\'\'\'
values = [
[["expect"]],
[ [ 'expect' ] ]
]
# [[expect]]

  [[ "expect" ]]  # indented, quoted, commented
check = "userns"
container = "a"

[containers.a]
config = "{ }"

[[expect]]
check = "ephemeral"
container = "a"

[[expect.sub]]
x = 1
[[ 'expect' ]]
check = "userns"
container = "a"
'''


def test_only_real_headers_count() -> None:
    assert len(tomllib.loads(TRAPS)["expect"]) == 3
    assert array_table_lines(TRAPS, "expect") == [13, 20, 26]


def test_other_keys_and_spellings_are_not_headers() -> None:
    assert array_table_lines(TRAPS, "containers") == []
    assert array_table_lines('expect = [ { check = "userns" } ]\n', "expect") == []
    assert array_table_lines('[["\\u0065xpect"]]\ncheck = "userns"\n', "expect") == []


def test_the_loader_falls_back_to_the_full_scan(tmp_path) -> None:
    source = (
        'description = "d"\n\nexpect = [\n  { check = "userns", container = "a" },\n'
        '  { check = "ephemeral", container = "a" },\n]\n\n[containers.a]\nconfig = "{ }"\n'
    )
    scenario = parse_scenario(tmp_path / "inline.toml", source)
    assert [e.line for e in scenario.expectations] == [4, 5]


@settings(max_examples=300, deadline=None)
@given(tables, st.lists(tables, min_size=1, max_size=3), st.data())
def test_every_written_header_is_found_on_its_line(
    data: dict[str, object], expect: list[dict[str, object]], draw: st.DataObject
) -> None:
    document = {**data, "expect": expect}
    writer = Writer(draw.draw)
    writer.table((), [], document)
    assert tomllib.loads(writer.text) == document, writer.text
    lines = [writer.lines[("expect", index)] for index in range(len(expect))]
    assert array_table_lines(writer.text, "expect") == lines, writer.text
