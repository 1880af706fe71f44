"""Data stays data, round three (issue #28), at load time: paths without empty, ``.`` and ``..``
components, names within the lengths of what they become, values bound for a command line
within their grammar; each a located error."""

from pathlib import Path

import pytest

from harness.scenario.load import load_scenario
from harness.scenario.model import ScenarioError

BASE = """description = "d"

[containers.web]
config = "{{ }}"
{container}
{host}
[[expect]]
check = "userns"
container = "web"
{entries}"""

DOTS = (
    "has a `.` or `..` component, which can lead out of the directory it names: write the "
    "path without them"
)
EMPTY = "has an empty component (`//`, or `/` at the end): write the path without them"


def errors(tmp_path: Path, name: str = "case.toml", **parts: str) -> list[str]:
    path = tmp_path / name
    text = BASE.format(**{"container": "", "host": "", "entries": "", **parts})
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(error).removeprefix(f"{path}:") for error in caught.value.errors]


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (
            'binds."/var/lib/../../etc" = { }',
            f'5: containers.web.binds."/var/lib/../../etc": {DOTS}',
        ),
        ('binds."/data/." = { }', f'5: containers.web.binds."/data/.": {DOTS}'),
        ('binds."/data//x" = { }', f'5: containers.web.binds."/data//x": {EMPTY}'),
        ('binds."/data/" = { }', f'5: containers.web.binds."/data/": {EMPTY}'),
        (
            'binds."/data".hostPath = "/srv/../etc"',
            f'5: containers.web.binds."/data".hostPath: {DOTS}',
        ),
        (
            f'binds."/{"a" * 256}" = {{ }}',
            f'5: containers.web.binds."/{"a" * 256}": has a component longer than 255 bytes, '
            "which no file name can be",
        ),
    ],
)
def test_bind_paths_name_what_they_read_as(tmp_path: Path, container: str, expected: str) -> None:
    assert errors(tmp_path, container=container) == [expected]


def test_a_prebuilt_path_has_no_dot_components(tmp_path: Path) -> None:
    text = BASE.format(container="", host="", entries="").replace(
        'config = "{ }"', 'path = "/nix/store/x-system/.."', 1
    )
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "case.toml")
    assert [f"{e.line}: {e.key}: {e.message}" for e in caught.value.errors] == [
        f"4: containers.web.path: {DOTS}"
    ]


def test_a_specialisation_name_is_a_file_name(tmp_path: Path) -> None:
    name = "s" * 256
    host = f'[host.specialisations.{name}]\nconfig = "{{ }}"\n'
    assert errors(tmp_path, host=host) == [
        f"6: host.specialisations.{name}: specialisation name {name[:20]!r}... is too long: it "
        "names a directory of the built system, and a file name has at most 255 bytes"
    ]
    assert load_scenario_ok(tmp_path, host=host.replace(name, "s" * 255))


def load_scenario_ok(tmp_path: Path, **parts: str) -> bool:
    path = tmp_path / "ok.toml"
    path.write_text(BASE.format(**{"container": "", "host": "", "entries": "", **parts}))
    return load_scenario(path) is not None


def test_the_file_stem_names_a_store_path(tmp_path: Path) -> None:
    (error,) = errors(tmp_path, name="t" * 194 + ".toml")
    assert error.startswith("1: (file name): the file stem names the test, whose driver is ")
    assert error.endswith("so use at most 193")
    path = tmp_path / ("t" * 193 + ".toml")
    path.write_text(BASE.format(container="", host="", entries=""))
    assert load_scenario(path).name == "t" * 193


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            '[[step]]\naction = "wait-unit"\nunit = "-x"\n[[expect]]\ncheck = "userns"\n'
            'container = "web"\n',
            "12: step[0].unit: not a systemd unit name: it needs a name and a type suffix",
        ),
        (
            '[[expect]]\ncheck = "address"\nnode = "web"\ninterface = "-eth0"\ndhcp = true\n',
            "13: expect[1].interface: not an interface name: use letters, digits",
        ),
        (
            '[[expect]]\ncheck = "reachable"\nto = "web"\naddress = "fe80::1%-x"\n',
            "13: expect[1].address: scope '-x': not an interface name",
        ),
        (
            '[[step]]\naction = "switch"\nto = "../../bin"\n[[expect]]\ncheck = "userns"\n'
            'container = "web"\n',
            "12: step[0].to: not a specialisation name",
        ),
    ],
)
def test_values_bound_for_a_command_line_follow_their_grammar(
    tmp_path: Path, entries: str, expected: str
) -> None:
    found = errors(tmp_path, entries=entries)
    assert any(error.startswith(expected) for error in found), found
