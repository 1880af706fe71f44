"""docs/scenarios.md documents the format: its complete example is valid, and its check
reference is generated from the registry."""

import re
from pathlib import Path

import pytest

from harness.catalogue import find_root
from harness.checks import CHECKS, CheckSpec, Param
from harness.checks.registry import STEPS
from harness.render import check_reference
from harness.scenario.load import TOP_KEYS, load_scenario
from harness.scenario.sections import CONTAINER_KEYS

README = find_root(Path(__file__)) / check_reference.README
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


def test_check_reference_is_fresh() -> None:
    """The check reference is what `python -m harness render` writes from the registry."""
    assert check_reference.BEGIN in TEXT
    assert check_reference.updated(TEXT) == TEXT, "run `python -m harness render`"


def test_every_check_has_its_section() -> None:
    assert list(sections()) == list(CHECKS)


def test_a_new_check_regenerates_into_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = CheckSpec(
        name="frobnicate",
        doc="The `thing` is frobnicated | twice.",
        params=(
            Param("thing", str, required=True, doc="what to frobnicate"),
            Param("times", int, default=2, bounds=(1, 9), doc="how often"),
            Param("mode", str, default="fast", choices=("fast", "slow"), doc="pace"),
        ),
        label=lambda p: str(p["thing"]),
    )
    monkeypatch.setattr(check_reference, "CHECKS", {**CHECKS, spec.name: spec})
    text = check_reference.updated(TEXT)
    block = text[text.index("### frobnicate") : text.index(check_reference.END)]
    assert "The `thing` is frobnicated | twice." in block
    assert "| `thing` | string | required | what to frobnicate |" in block
    assert "| `times` | integer, 1 to 9 | `2` | how often |" in block
    assert '| `mode` | `"fast"`, `"slow"` | `"fast"` | pace |' in block
    assert text.startswith(TEXT[: TEXT.index(check_reference.BEGIN)])
    assert text.endswith(TEXT[TEXT.index(check_reference.END) :])


def test_the_step_index_lists_every_step_with_a_link_to_its_section() -> None:
    block = TEXT[TEXT.index(check_reference.STEP_BEGIN) : TEXT.index(check_reference.STEP_END)]
    rows = re.findall(r"^\| \[`(\S+)`\]\(#(\S+)\) \| (.*?) \|", block, re.M)
    assert [(name, anchor) for name, anchor, _ in rows] == [(n, n) for n in STEPS]
    assert set(step_sections()) == set(STEPS)  # every anchor has its section
    assert rows[list(STEPS).index("kill-unit")][2] == "`container`, `unit`, `then`"


def test_broken_markers_are_an_error() -> None:
    with pytest.raises(check_reference.MarkersMissing):
        check_reference.updated(TEXT.replace(check_reference.END, ""))


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
    [
        "## `[host]`",
        "## `[[step]]`",
        "### command",
        "### http",
        "## `[nodes.<name>]`",
        "#### reboot",
        "### A prebuilt `path`",
        "## `[[expect]]`",
    ],
)
def test_construct_examples_are_valid(heading: str, tmp_path: Path) -> None:
    """The short example of a construct validates as part of a scenario and has the ids it
    documents."""
    section = TEXT.split(heading + "\n", 1)[1]
    (example,) = re.findall(r"```toml\n(.*?)^```", section, re.M | re.S)[:1]
    path = tmp_path / "example.toml"
    path.write_text(
        f'description = "x"\n[containers.web]\nconfig = "{{ }}"\n'
        f'[containers.db]\nconfig = "{{ }}"\n{example}'
        + (
            '\n[[expect]]\ncheck = "unit-active"\ncontainer = "web"\n'
            if "[[expect]]" not in example
            else ""
        )
    )
    scenario = load_scenario(path)
    ids = [entry.id for entry in scenario.program]
    documented = re.findall(r"# id: (.+\])", example)
    assert documented or "# id:" not in example
    assert set(documented) <= set(ids)
