"""``python -m harness``: the committed generated tests are fresh, and staleness is caught."""

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import SCENARIOS_DIR, find_root
from harness.cli import main
from harness.render import check_reference
from harness.render.manual import CATALOGUE_DIR, WIRING
from harness.render.nixos_test import GENERATED_DIR

ROOT = find_root(Path(__file__))


def run(*argv: str, root: Path = ROOT) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["--root", str(root), *argv], out=out)
    return status, out.getvalue()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the catalogue and its generated tests, to break on purpose."""
    (tmp_path / "flake.nix").write_text("{ outputs = _: { }; }\n")
    shutil.copytree(ROOT / SCENARIOS_DIR, tmp_path / SCENARIOS_DIR)
    shutil.copytree(ROOT / GENERATED_DIR, tmp_path / GENERATED_DIR)
    for generated in (CATALOGUE_DIR, WIRING.parent):
        shutil.copytree(ROOT / generated, tmp_path / generated)
    shutil.copy(ROOT / check_reference.README, tmp_path / check_reference.README)
    return tmp_path


def test_committed_generated_tests_are_fresh() -> None:
    """The suite's `python -m harness render --check`: nix/tests matches scenarios/."""
    status, output = run("render", "--check")
    assert status == 0, output


def test_every_scenario_has_a_generated_test() -> None:
    scenarios = {p.stem for p in (ROOT / SCENARIOS_DIR).rglob("*.toml")}
    generated = {p.stem for p in (ROOT / GENERATED_DIR).glob("*.nix")}
    assert scenarios == generated
    assert len(scenarios) >= 6


def test_check_fails_with_a_diff_on_a_stale_file(repo: Path) -> None:
    stale = repo / GENERATED_DIR / "userns.nix"
    stale.write_text(stale.read_text().replace("globalTimeout = 1800", "globalTimeout = 1"))
    status, output = run("render", "--check", root=repo)
    assert status == 1
    assert "--- a/nix/tests/userns.nix" in output
    assert "-  globalTimeout = 1;" in output
    assert "+  globalTimeout = 1800;" in output


def test_render_refreshes_a_stale_check_reference(repo: Path) -> None:
    readme = repo / check_reference.README
    fresh = readme.read_text()
    # The first occurrence is the generated `command` check (the [[step]] docs have one too).
    stale = fresh.replace("| `run` | string | required |", "| `run` | text | required |", 1)
    readme.write_text(stale)
    status, output = run("render", "--check", root=repo)
    assert status == 1
    assert "-| `run` | text | required |" in output
    assert "check reference out of date: run `python -m harness render`" in output
    assert run("render", root=repo) == (0, "wrote docs/scenarios.md\n")
    assert readme.read_text() == fresh
    assert run("render", "--check", root=repo) == (0, "")


def test_check_fails_on_a_changed_scenario(repo: Path) -> None:
    scenario = repo / SCENARIOS_DIR / "userns.toml"
    text = scenario.read_text()
    assert 'container = "one"' in text
    scenario.write_text(text.replace('container = "one"', 'container = "two"', 1))
    status, output = run("render", "--check", root=repo)
    assert status == 1
    assert '+    session.check("userns[two]#2"' in output


def test_check_fails_on_orphans_and_missing_files(repo: Path) -> None:
    (repo / SCENARIOS_DIR / "userns.toml").rename(repo / SCENARIOS_DIR / "namespaces.toml")
    status, output = run("render", "--check", root=repo)
    assert status == 1
    assert "+++ /dev/null" in output  # nix/tests/userns.nix has no scenario any more
    assert "--- /dev/null" in output  # nix/tests/namespaces.nix is missing


def test_render_writes_and_removes_only_generated_files(repo: Path) -> None:
    (repo / SCENARIOS_DIR / "userns.toml").unlink()
    handwritten = repo / GENERATED_DIR / "handwritten.nix"
    handwritten.write_text("{ }\n")
    stale = "# Generated from x by `python -m harness render`\n"
    (repo / GENERATED_DIR / "zones.nix").write_text(stale)
    status, output = run("render", root=repo)
    assert "removed nix/tests/userns.nix" in output
    assert "wrote nix/tests/zones.nix" in output
    assert handwritten.exists()
    assert status == 1  # the hand-written file is reported
    handwritten.unlink()
    assert run("render", "--check", root=repo) == (0, "")


def test_the_manual_pages_are_generated_files(repo: Path) -> None:
    """A scenario's page in the manual is stale when its scenario changes, an orphan when it
    goes; a hand-written page beside them is reported, never removed."""
    page = repo / CATALOGUE_DIR / "zones.md"
    scenario = repo / SCENARIOS_DIR / "zones.toml"
    scenario.write_text(scenario.read_text().replace('zone = "dmz"', 'zone = "edge"'))
    status, output = run("render", "--check", root=repo)
    assert status == 1
    assert "+++ b/docs/catalogue/zones.md" in output
    assert "vz-edge" in output
    (repo / SCENARIOS_DIR / "userns.toml").unlink()
    (repo / WIRING).unlink()
    handwritten = repo / CATALOGUE_DIR / "notes.md"
    handwritten.write_text("# Notes\n")
    status, output = run("render", root=repo)
    assert status == 1
    assert "wrote docs/catalogue/zones.md" in output
    assert "removed docs/catalogue/userns.md" in output
    assert "wrote docs/catalogue/index.md" in output
    assert "wrote docs/pictures/wiring.svg" in output
    assert "vz-edge" in page.read_text()
    handwritten.unlink()
    assert run("render", "--check", root=repo) == (0, "")


def test_a_repository_without_the_catalogue_pages_gets_none(repo: Path) -> None:
    """Pages are written only where docs/catalogue/ exists: a repository of one's own hosts
    gets only its generated tests."""
    shutil.rmtree(repo / CATALOGUE_DIR)
    assert run("render", "--check", root=repo) == (0, "")
    assert run("render", root=repo) == (0, "")
    assert not (repo / CATALOGUE_DIR).exists()


def test_validate_prints_all_errors_of_all_files(repo: Path) -> None:
    bad = repo / SCENARIOS_DIR / "zones.toml"
    bad.write_text(bad.read_text().replace('to = "beta"', 'to = "betta"', 1))
    other = repo / SCENARIOS_DIR / "userns.toml"
    other.write_text(other.read_text().replace("description", "descripton"))
    status, output = run("validate", root=repo)
    assert status == 1
    lines = output.splitlines()
    assert any(
        line.startswith(f"{bad}:")
        and "expect[0].to: unknown node 'betta'" in line
        and "did you mean 'beta'" in line
        for line in lines
    )
    assert any(line.startswith(f"{other}:1: descripton: unknown key") for line in lines)
    assert any(
        line.startswith(f"{other}:1: description: required key is missing") for line in lines
    )
    assert "Traceback" not in output


def test_validate_named_files(repo: Path) -> None:
    status, output = run("validate", str(repo / SCENARIOS_DIR / "zones.toml"), root=repo)
    assert (status, output) == (0, "1 scenario(s) valid\n")


def test_list_and_show() -> None:
    status, output = run("list")
    assert status == 0
    assert any(line.startswith("zones\t") for line in output.splitlines())
    status, output = run("show", "zones")
    assert status == 0
    assert "container alpha: zone lab" in output
    assert "unreachable[alpha->gamma,ipv4]" in output
    status, output = run("show", "nope")
    assert status == 1
    assert "known: " in output


def test_list_json_is_one_ci_job_per_scenario_on_one_line(repo: Path) -> None:
    (repo / SCENARIOS_DIR / "lab").mkdir()
    shutil.move(repo / SCENARIOS_DIR / "zones.toml", repo / SCENARIOS_DIR / "lab" / "zones.toml")
    status, output = run("list", "--json", "--system", "aarch64-linux", root=repo)
    assert status == 0
    assert output.count("\n") == 1  # fits a CI step output (`matrix=$(...)`)
    jobs = json.loads(output)
    names = sorted(p.stem for p in (repo / SCENARIOS_DIR).rglob("*.toml"))
    assert sorted(job["name"] for job in jobs) == names
    assert next(job for job in jobs if job["name"] == "zones") == {
        "name": "zones",
        "file": "scenarios/lab/zones.toml",
        "system": "aarch64-linux",
        "attr": "checks.aarch64-linux.zones",
    }


def test_list_json_lists_the_valid_scenarios_and_fails_on_the_others(repo: Path, capsys) -> None:
    (repo / SCENARIOS_DIR / "9lives.toml").write_text(
        (repo / SCENARIOS_DIR / "zones.toml").read_text()
    )
    (repo / SCENARIOS_DIR / "broken.toml").write_text("description = 1\n")
    status, output = run("list", "--json", "--system", "x86_64-linux", root=repo)
    assert status == 1
    jobs = {job["name"]: job["attr"] for job in json.loads(output)}
    assert jobs["9lives"] == 'checks.x86_64-linux."9lives"'  # not a bare Nix attribute name
    assert "broken" not in jobs
    assert "broken.toml:1: description: expected a string" in capsys.readouterr().err


def test_show_lists_nodes_specialisations_and_steps_in_order() -> None:
    status, output = run("show", "restart-if-changed")
    assert status == 0
    assert "  specialisation v2: eager, steady\n" in output
    program = [line.split(": ", 1) for line in output.splitlines() if "(line " in line]
    assert [(kind.split()[0], entry) for kind, entry in program][2:5] == [
        ("step", "run[host:machinectl show steady -p Leader --valu…]"),
        ("step", "switch[v2]"),
        ("expect", "http[host->eager:80/]#2"),
    ]
    status, output = run("show", "masquerade")
    assert "  node outside\n" in output


def test_root_is_found_from_a_subdirectory() -> None:
    assert find_root(ROOT / "harness" / "templates") == ROOT


def test_module_entry_point_without_root_outside_a_repository(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "use --root" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [("render",), ("render", "--check")])
def test_a_value_validation_missed_is_reported_with_its_file_not_a_traceback(
    repo: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    """The safety net behind the loader: should a value pass validation but have no Nix form,
    render names the scenario file instead of crashing."""
    import harness.catalogue
    from harness.render.escape import NixEscapeError

    real = harness.catalogue.render_scenario

    def render(scenario, source, directory):  # type: ignore[no-untyped-def]
        if scenario.name == "zones":
            raise NixEscapeError("integer 99999999999999999999 does not fit Nix's 64-bit integers")
        return real(scenario, source, directory)

    monkeypatch.setattr(harness.catalogue, "render_scenario", render)
    status, output = run(*argv, root=repo)
    assert status == 1
    zones = repo / SCENARIOS_DIR / "zones.toml"
    assert output == (
        f"{zones}:1: (render): cannot render: integer 99999999999999999999 "
        "does not fit Nix's 64-bit integers\n"
    )


def test_nested_scenarios_are_part_of_the_catalogue(repo: Path) -> None:
    nested = repo / SCENARIOS_DIR / "net" / "zones.toml"
    nested.parent.mkdir()
    (repo / SCENARIOS_DIR / "zones.toml").rename(nested)
    assert any(line.startswith("zones\t") for line in run("list", root=repo)[1].splitlines())
    status, output = run("show", "zones", root=repo)
    assert (status, output.splitlines()[1]) == (0, "  file: scenarios/net/zones.toml")
    status, output = run("render", root=repo)
    assert (status, output) == (0, "wrote docs/catalogue/zones.md\nwrote nix/tests/zones.nix\n")
    assert "scenarios&#47;net&#47;zones&#46;toml" in (repo / CATALOGUE_DIR / "zones.md").read_text()
    generated = (repo / GENERATED_DIR / "zones.nix").read_text()
    assert generated.startswith("# Generated from scenarios/net/zones.toml by")
    assert run("render", "--check", root=repo) == (0, "")


def test_scenarios_with_the_same_name_are_an_error_naming_both(repo: Path) -> None:
    top = repo / SCENARIOS_DIR / "zones.toml"
    nested = repo / SCENARIOS_DIR / "net" / "zones.toml"
    nested.parent.mkdir()
    shutil.copy(top, nested)
    for argv in (("validate",), ("validate", str(nested)), ("render",), ("render", "--check")):
        status, output = run(*argv, root=repo)
        assert status == 1, argv
        assert (
            f"{nested}:1: (file name): the scenario name 'zones' is also the name of {top}"
            in output
        ), argv
    status, output = run("validate", root=repo)
    assert f"{top}:1: (file name): the scenario name 'zones' is also the name of {nested}" in output
    status, output = run("show", "zones", root=repo)
    assert status == 1
    assert str(nested) in output
    assert str(top) in output


def test_escaped_quotes_in_a_multi_line_string_do_not_crash_any_command(repo: Path) -> None:
    """Valid TOML that crashed the key-position scanner gave every command a traceback."""
    scenario = repo / SCENARIOS_DIR / "userns.toml"
    text = scenario.read_text()
    scenario.write_text(
        re.sub(r"^description = .*$", 'description = """ \\\\""" """', text, count=1, flags=re.M)
    )
    for command in (["list"], ["validate"], ["show", "userns"], ["render"]):
        status, output = run(*command, root=repo)
        assert status == 0, (command, output)
