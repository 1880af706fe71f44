"""harness.scenario.tomlpos: the line of every kind of TOML key path."""

import tomllib

import pytest

from harness.scenario.tomlpos import key_lines

DOC = '''\
# comment with = and [brackets] and "quotes"
description = """multi
line = "not a key"
[not.a.table]"""
timeout = 600

[host]
config = \'\'\'
{ pkgs, ... }: { }
\'\'\'

[containers.web]
config = "{ }"  # trailing comment
binds."/var/lib/web" = { hostPath = "/srv/web", readOnly = false }
network.veth.config.host.networkConfig = { DHCPServer = false, Address = [
  "192.168.42.1/24",
  "fc42::1/64",
] }

[containers."odd name".network.veth]
zone = 'lab'

[[expect]]
check = "reachable"
to = "web"

[[expect]]
check = "address"
node = "web"
"quoted key" = 1
when = 1979-05-27 07:32:00
ratio = 1.5
nested = [[1, 2], [3, {a = 4}]]
'''

EXPECTED = {
    ("description",): 2,
    ("timeout",): 5,
    ("host",): 7,
    ("host", "config"): 8,
    ("containers",): 12,
    ("containers", "web"): 12,
    ("containers", "web", "config"): 13,
    ("containers", "web", "binds"): 14,
    ("containers", "web", "binds", "/var/lib/web"): 14,
    ("containers", "web", "binds", "/var/lib/web", "readOnly"): 14,
    ("containers", "web", "network", "veth", "config", "host", "networkConfig"): 15,
    ("containers", "web", "network", "veth", "config", "host", "networkConfig", "Address"): 15,
    ("containers", "web", "network", "veth", "config", "host", "networkConfig", "Address", 0): 16,
    ("containers", "web", "network", "veth", "config", "host", "networkConfig", "Address", 1): 17,
    ("containers", "odd name"): 20,
    ("containers", "odd name", "network", "veth"): 20,
    ("containers", "odd name", "network", "veth", "zone"): 21,
    ("expect",): 23,
    ("expect", 0): 23,
    ("expect", 0, "check"): 24,
    ("expect", 0, "to"): 25,
    ("expect", 1): 27,
    ("expect", 1, "check"): 28,
    ("expect", 1, "node"): 29,
    ("expect", 1, "quoted key"): 30,
    ("expect", 1, "when"): 31,
    ("expect", 1, "ratio"): 32,
    ("expect", 1, "nested", 1, 1, "a"): 33,
}


def test_document_is_valid_toml() -> None:
    data = tomllib.loads(DOC)
    assert data["expect"][1]["quoted key"] == 1


@pytest.mark.parametrize(("path", "line"), EXPECTED.items(), ids=str)
def test_line_of_key_path(path: tuple[str | int, ...], line: int) -> None:
    assert key_lines(DOC).line(path) == line


def test_missing_key_falls_back_to_nearest_table() -> None:
    lines = key_lines(DOC)
    assert lines.line(("expect", 1, "to")) == 27
    assert lines.line(("containers", "web", "autoStart")) == 12
    assert lines.line(("nothing",)) == 1


def test_strings_are_not_mistaken_for_keys() -> None:
    lines = key_lines(DOC).lines
    assert ("line",) not in lines
    assert ("not",) not in lines
    assert ("Address",) not in lines


def test_escaped_quotes_and_unicode_escapes_in_keys() -> None:
    doc = 'a = "x\\"y # not a comment"\n"k\\u00e9y" = 1\n\'lit\\\' = 2\n'
    assert tomllib.loads(doc) == {"a": 'x"y # not a comment', "kéy": 1, "lit\\": 2}
    lines = key_lines(doc)
    assert lines.line(("kéy",)) == 2
    assert lines.line(("lit\\",)) == 3


def test_nested_arrays_of_tables_follow_the_latest_index() -> None:
    doc = "[[a]]\nx = 1\n[[a.b]]\ny = 1\n[[a]]\n[[a.b]]\n[[a.b]]\ny = 2\n"
    assert tomllib.loads(doc)["a"][1]["b"][1] == {"y": 2}
    lines = key_lines(doc)
    assert lines.line(("a", 0, "b", 0, "y")) == 4
    assert lines.line(("a", 1)) == 5
    assert lines.line(("a", 1, "b", 1, "y")) == 8


@pytest.mark.parametrize(
    "value",
    [
        '""" \\""" """',  # an escaped quote right before the closing quotes (issue 10)
        '"""\\\\"""',  # an escaped backslash right before them
        '"""a\\"""""',  # an escaped quote, then content quotes, then the end
        "'''a\\'''",  # literal: the backslash is content, the quotes end the string
    ],
)
def test_multi_line_strings_with_escapes_before_the_closing_quotes(value: str) -> None:
    doc = f"description = {value}\nafter = 1\n"
    tomllib.loads(doc)
    lines = key_lines(doc)
    assert lines.scanned
    assert lines.line(("after",)) == 2


def test_a_scanner_failure_degrades_to_no_position(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object) -> None:
        raise IndexError("scanner bug")

    monkeypatch.setattr("harness.scenario.tomlpos._Scanner.run", broken)
    lines = key_lines("a = 1\n")
    assert not lines.scanned
    assert lines.line(("a",)) is None
