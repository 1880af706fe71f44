"""A scenario's ``imports`` and ``modules``: every refused form is a located error."""

import os
from pathlib import Path

import pytest
from support.downstream import write_project

from harness.scenario.load import load_scenario
from harness.scenario.model import ImportPath, ScenarioError

EXPECT = '[[expect]]\ncheck = "unit-active"\ncontainer = "db"\n'


@pytest.fixture
def myinfra(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "myinfra")
    (tmp_path / "outside.nix").write_text("{ }\n")
    return root


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(error) for error in caught.value.errors]


def scenario(root: Path, table: str, key: str, value: str) -> Path:
    """A scenario whose line 3 is ``key = value`` in ``table`` (and a container ``db``)."""
    path = root / "scenarios" / "case.toml"
    db = "" if table == "[containers.db]" else '[containers.db]\nconfig = "{ }"\n'
    path.write_text(f'description = "x"\n{table}\n{key} = {value}\n{db}{EXPECT}')
    return path


REFUSED = [
    ('""', "empty path"),
    ("'/etc/hosts'", "'/etc/hosts' is absolute"),
    ("'~/web.nix'", "no home directories"),
    ("'${./x}/web.nix'", "no interpolation"),
    ("'<nixpkgs/nixos>'", "no search path (<...>)"),
    ("'https://example.com/web.nix'", "is a URL"),
    ('"../hosts/web\\n.nix"', "control or invisible characters"),
    ('"../hosts/web\\u200b.nix"', "control or invisible characters"),
    ("'../hosts/missing.nix'", "'../hosts/missing.nix': no such file"),
    ("'../hosts'", "'../hosts' is a directory without default.nix"),
    ("'../../outside.nix'", "'../../outside.nix' leaves the flake root"),
    ("'../link.nix'", "leaves the flake root {root} through a symbolic link"),
]


@pytest.mark.parametrize(("value", "message"), REFUSED, ids=[v for v, _ in REFUSED])
@pytest.mark.parametrize("table", ["[host]", "[nodes.client]", "[containers.db]"])
def test_every_refused_import_is_a_located_error(myinfra, table, value, message) -> None:
    os.symlink(myinfra.parent / "outside.nix", myinfra / "link.nix")
    path = scenario(myinfra, table, "imports", f"[{value}]")
    key = table.strip("[]") + ".imports[0]"
    (error,) = errors(path)
    assert error.startswith(f"{path}:3: {key}: ")
    assert message.format(root=myinfra) in error


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"../hosts/web.nix"', "expected an array, got string"),
        ("[1]", "expected a string, got integer"),
    ],
)
def test_imports_is_an_array_of_strings(myinfra, value, message) -> None:
    path = scenario(myinfra, "[host]", "imports", value)
    key = "host.imports" if value.startswith('"') else "host.imports[0]"
    (error,) = errors(path)
    assert error.startswith(f"{path}:3: {key}: {message}")


@pytest.mark.parametrize("name", ["9web", "web.nix", "${web}", "", "a b", "-web"])
def test_a_module_name_is_a_plain_attribute_name(myinfra, name) -> None:
    path = scenario(myinfra, "[host]", "modules", f"['{name}']")
    assert errors(path) == [
        f"{path}:3: host.modules[0]: {name!r} is not a plain attribute name (letters, digits, "
        "'_', '-', \"'\"; not starting with a digit or '-'): give the name of one of the "
        "flake's nixosModules"
    ]


def test_a_scenario_outside_any_flake_imports_nothing(tmp_path) -> None:
    (tmp_path / "web.nix").write_text("{ }\n")
    path = tmp_path / "case.toml"
    path.write_text(
        'description = "x"\n[host]\nimports = ["web.nix"]\n'
        '[containers.db]\nconfig = "{ }"\n' + EXPECT
    )
    assert errors(path) == [
        f"{path}:3: host.imports[0]: the scenario is in no flake (no flake.nix above it), so "
        "there is no repository to import from"
    ]


def test_accepted_imports_name_their_files(myinfra) -> None:
    (myinfra / "containers/db").mkdir()
    (myinfra / "containers/db/default.nix").write_text("{ }\n")
    (myinfra / "hosts/my host.nix").write_text("{ }\n")
    path = myinfra / "scenarios" / "case.toml"
    path.write_text(
        'description = "x"\n[host]\nimports = ["../hosts/my host.nix", "./../hosts/web.nix"]\n'
        '[containers.db]\nimports = ["../containers/db/"]\nmodules = ["db", "db_2\'"]\n' + EXPECT
    )
    loaded = load_scenario(path)
    assert loaded.host.user.imports == (
        ImportPath("../hosts/my host.nix", myinfra / "hosts/my host.nix"),
        ImportPath("./../hosts/web.nix", myinfra / "hosts/web.nix"),
    )
    (db,) = loaded.containers
    assert db.config is None
    assert db.user.imports == (ImportPath("../containers/db/", myinfra / "containers/db"),)
    assert db.user.modules == ("db", "db_2'")
    assert loaded.imported == (
        myinfra / "hosts/my host.nix",
        myinfra / "hosts/web.nix",
        myinfra / "containers/db",
    )


def test_a_specialisation_imports_too_and_changes_something(myinfra) -> None:
    path = myinfra / "scenarios" / "case.toml"
    path.write_text(
        'description = "x"\n[host.specialisations.v2]\nimports = ["../hosts/web.nix"]\n'
        'modules = ["web"]\n[host.specialisations.v3]\n'
        '[containers.db]\nconfig = "{ }"\n' + EXPECT
    )
    assert errors(path) == [
        f"{path}:5: host.specialisations.v3: a specialisation changes something: give "
        "`config`, `imports`, `modules` or `containers`"
    ]
    path.write_text(path.read_text().replace("[host.specialisations.v3]\n", ""))
    (v2,) = load_scenario(path).host.specialisations
    assert v2.user.imports == (ImportPath("../hosts/web.nix", myinfra / "hosts/web.nix"),)
    assert v2.user.modules == ("web",)
    assert load_scenario(path).imported == (myinfra / "hosts/web.nix",)
