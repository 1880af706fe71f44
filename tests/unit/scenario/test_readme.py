"""scenarios/README.md documents the format: its complete example is valid, and every check and
every parameter of the registry has its section."""

import re
from pathlib import Path

import pytest

from harness.catalogue import SCENARIOS_DIR, find_root
from harness.checks import CHECKS
from harness.checks.registry import STEPS
from harness.loader import CONTAINER_KEYS, TOP_KEYS, load_scenario

README = find_root(Path(__file__)) / SCENARIOS_DIR / "README.md"
TEXT = README.read_text()


def sections() -> dict[str, str]:
    parts = re.split(r"^### (\S+)\n", TEXT, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_complete_example_is_valid(tmp_path: Path) -> None:
    (example,) = re.findall(r"^## A complete example\n\n```toml\n(.*?)^```", TEXT, re.M | re.S)
    path = tmp_path / "example.toml"
    path.write_text(example)
    scenario = load_scenario(path)
    documented_ids = re.findall(r"# id: (\S+)", example)
    assert [e.id for e in scenario.expectations] == documented_ids
    assert {c.name for c in scenario.containers} == {"web"}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_and_parameter_is_documented(name: str) -> None:
    section = sections().get(name)
    assert section is not None, f"no '### {name}' section"
    for param in CHECKS[name].params:
        assert f"`{param.name}`" in section, f"{name}: parameter {param.name} not documented"


def test_no_section_for_a_check_that_does_not_exist() -> None:
    assert set(sections()) == set(CHECKS)


def test_every_key_is_documented() -> None:
    for key in (*TOP_KEYS, *CONTAINER_KEYS):
        assert f"`{key}" in TEXT or f"[{key}" in TEXT, key


def step_sections() -> dict[str, str]:
    parts = re.split(r"^#### (\S+)\n", TEXT, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_step_and_parameter_is_documented() -> None:
    sections = step_sections()
    assert set(sections) == set(STEPS)
    for name, spec in STEPS.items():
        for param in spec.params:
            assert f"`{param.name}`" in sections[name], f"{name}: {param.name} not documented"


@pytest.mark.parametrize(
    "heading",
    ["## `[host]`", "## `[[step]]`", "### command", "### http", "## `[nodes.<name>]`"],
)
def test_construct_examples_are_valid(heading: str, tmp_path: Path) -> None:
    """The short example of a construct validates as part of a scenario and has the ids it
    documents."""
    section = TEXT.split(heading + "\n", 1)[1]
    (example,) = re.findall(r"```toml\n(.*?)^```", section, re.M | re.S)[:1]
    path = tmp_path / "example.toml"
    path.write_text(f'description = "x"\n[containers.web]\nconfig = "{{ }}"\n'
                    f'[containers.db]\nconfig = "{{ }}"\n{example}'
                    + ('\n[[expect]]\ncheck = "unit-active"\ncontainer = "web"\n'
                       if "[[expect]]" not in example else ""))
    scenario = load_scenario(path)
    ids = [entry.id for entry in scenario.program]
    documented = re.findall(r"# id: (.+\])", example)
    assert documented or "# id:" not in example
    assert set(documented) <= set(ids)
