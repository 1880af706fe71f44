"""Collection of scenario files by the plugin (pytester): items, ids, bad-file isolation."""

import textwrap

import pytest
from support.demo import DEMO

BAD = textwrap.dedent(
    """\
    description = "bad"

    [containers.web]
    config = "{ }"
    autostart = true

    [[expect]]
    check = "reachable"
    to = "nowhere"
    """
)


@pytest.fixture
def project(pytester):
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "demo.toml").write_text(DEMO)
    return pytester


def collected(result) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_items_and_ids(project):
    (project.path / "scenarios" / "nested").mkdir()
    (project.path / "scenarios" / "nested" / "deep.toml").write_text(DEMO)
    (project.path / "other").mkdir()
    (project.path / "other" / "demo.toml").write_text(DEMO)  # not under a scenarios/ directory
    result = project.runpytest("--collect-only", "-q")
    assert collected(result) == [
        "scenarios/demo.toml::validate-render",
        "scenarios/demo.toml::unit-active[web]",
        "scenarios/demo.toml::reachable[host->web,ipv4]",
        "scenarios/nested/deep.toml::validate-render",
        "scenarios/nested/deep.toml::unit-active[web]",
        "scenarios/nested/deep.toml::reachable[host->web,ipv4]",
    ]


def test_scenario_directories_are_configurable(project):
    (project.path / "cases").mkdir()
    (project.path / "cases" / "mine.toml").write_text(DEMO)
    project.makeini("[pytest]\nnixos_nspawn_scenario_dirs =\n    cases\n")
    result = project.runpytest("--collect-only", "-q")
    assert collected(result) == [
        "cases/mine.toml::validate-render",
        "cases/mine.toml::unit-active[web]",
        "cases/mine.toml::reachable[host->web,ipv4]",
    ]


def test_vm_items_carry_the_vm_marker(project):
    result = project.runpytest("--collect-only", "-q", "-m", "not vm")
    assert collected(result) == ["scenarios/demo.toml::validate-render"]


def test_a_bad_file_is_one_failing_item_and_others_still_run(project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nix: the VM items skip
    (project.path / "scenarios" / "bad.toml").write_text(BAD)
    (project.path / "scenarios" / "broken.toml").write_text("description = \n")
    result = project.runpytest("-rA")
    result.assert_outcomes(passed=1, failed=2, skipped=2)
    text = result.stdout.str()
    bad = project.path / "scenarios" / "bad.toml"
    assert f"{bad}:5: containers.web.autostart: unknown key" in text
    assert f"{bad}:9: expect[0].to:" in text
    assert "broken.toml:1:" in text
    assert "Traceback" not in text
    assert "harness/" not in text  # no frames of the plugin or loader
    assert "FAILED scenarios/bad.toml::validate-render" in text
    assert "FAILED scenarios/broken.toml::validate-render" in text
    assert "PASSED scenarios/demo.toml::validate-render" in text


def test_render_item_fails_when_the_file_does_not_render(project, monkeypatch):
    import harness.catalogue

    def refuse(scenario, source, directory):
        raise ValueError("Nix strings cannot contain NUL characters")

    monkeypatch.setattr(harness.catalogue, "render_scenario", refuse)
    result = project.runpytest("-m", "not vm")
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(
        ["*scenarios/demo.toml: cannot render: Nix strings cannot contain NUL characters"]
    )


def test_scenarios_with_the_same_name_are_failing_validate_items(project):
    """Two files with one stem would share a flake check, a generated test and their logs."""
    (project.path / "scenarios" / "nested").mkdir()
    (project.path / "scenarios" / "nested" / "demo.toml").write_text(DEMO)
    (project.path / "scenarios" / "other.toml").write_text(DEMO)
    result = project.runpytest("-m", "not vm", "-rA")
    result.assert_outcomes(passed=1, failed=2)
    top = project.path / "scenarios" / "demo.toml"
    nested = project.path / "scenarios" / "nested" / "demo.toml"
    text = result.stdout.str()
    assert f"{top}:1: (file name): the scenario name 'demo' is also the name of {nested}" in text
    assert f"{nested}:1: (file name): the scenario name 'demo' is also the name of {top}" in text
    assert "FAILED scenarios/demo.toml::validate-render" in text
    assert "FAILED scenarios/nested/demo.toml::validate-render" in text
    assert "PASSED scenarios/other.toml::validate-render" in text
    collection = project.runpytest("--collect-only", "-q")
    assert collected(collection) == [
        "scenarios/demo.toml::validate-render",
        "scenarios/nested/demo.toml::validate-render",
        "scenarios/other.toml::validate-render",
        "scenarios/other.toml::unit-active[web]",
        "scenarios/other.toml::reachable[host->web,ipv4]",
    ]
