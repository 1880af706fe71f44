"""The harness in a user's own flake (issue #23): a downstream project in a temporary directory
outside this repository, driven through the installed package (``python -m harness``,
``pytest``) and the runner."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.downstream import WEB_ITEMS, commit_all, write_project
from support.fake_nix_env import result
from support.gitrepo import git

from harness import catalogue
from harness.run.build import build
from harness.scenario.load import load_scenario

SYSTEM = "x86_64-linux"
HERE = Path(__file__).resolve()
needs_nix = pytest.mark.skipif(
    shutil.which("nix-instantiate") is None, reason="needs nix-instantiate"
)


@pytest.fixture
def myinfra(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "myinfra")
    assert not root.is_relative_to(HERE.parents[3])  # outside this repository
    return root


def harness(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m harness`` as a user runs it in their repository (the installed package)."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def collect_only(root: Path) -> subprocess.CompletedProcess[str]:
    """``pytest --collect-only -q`` in the repository (the installed plugin)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def collected(root: Path) -> list[str]:
    """The item ids that ``pytest --collect-only`` lists."""
    result = collect_only(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_validate_render_and_collect_in_a_foreign_repository(myinfra: Path) -> None:
    assert harness(myinfra, "validate").stdout == "1 scenario(s) valid\n"
    assert harness(myinfra, "render", "--check").returncode == 1  # nothing generated yet
    rendering = harness(myinfra, "render")
    assert rendering.stdout == "wrote nix/tests/web.nix\n", rendering.stderr
    assert harness(myinfra, "render", "--check").returncode == 0
    text = (myinfra / "nix/tests/web.nix").read_text()
    assert "{ nixosModules, checksPackage, userModules ? { }, ... }:" in text
    assert "        ../../hosts/web.nix\n" in text
    assert "        db.config.imports = [ ../../containers/db.nix ];\n" in text
    assert (
        '(userModules.monitoring or (throw "scenario scenarios/web.toml: [host] modules: '
        'the flake has no nixosModules.monitoring"))'
    ) in text
    assert collected(myinfra) == WEB_ITEMS


def test_show_names_what_each_machine_takes_from_the_repository(myinfra: Path) -> None:
    lines = harness(myinfra, "show", "web").stdout.splitlines()
    assert lines[3:6] == [
        "  host: imports ../hosts/web.nix; modules monitoring",
        "  container db: veth; no binds; imports ../containers/db.nix",
        "  node client: modules monitoring",
    ]


TEMPLATE = HERE.parents[3] / "templates" / "default"


@needs_nix
def test_the_template_project_in_a_foreign_directory(tmp_path: Path) -> None:
    """The example project this repository ships (templates/default), copied out of it."""
    root = tmp_path / "myinfra"
    shutil.copytree(TEMPLATE, root)
    assert harness(root, "validate").stdout == "1 scenario(s) valid\n"
    checked = harness(root, "render", "--check")
    assert checked.returncode == 0, checked.stdout  # its committed generated test is fresh
    assert collected(root) == [
        "scenarios/example.toml::validate-render",
        "scenarios/example.toml::tcp[app->db:5432]",
        "scenarios/example.toml::http[host->app:80/]",
        "scenarios/example.toml::ephemeral[db]",
    ]
    test = root / "nix/tests/example.nix"
    parse = subprocess.run(["nix-instantiate", "--parse", test], capture_output=True)
    assert parse.returncode == 0, parse.stderr
    show = "x: if builtins.isPath x then toString x else builtins.typeOf x"
    result = nix_eval(
        f"let test = import {test} {{ nixosModules.host = {{ }}; checksPackage = p: p; "
        'userModules.web = "WEB"; }; host = test.nodes.host { lib.mkDefault = x: x; }; '
        f"in {{ host = map ({show}) host.imports; "
        "containers = builtins.mapAttrs (_: c: map toString c.config.imports) "
        "host.nixos-nspawn.containers; }",
        root,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "host": ["set", "string"],
        "containers": {
            "db": [str(root / "containers/db.nix")],
            "app": [str(root / "containers/app.nix")],
        },
    }


def test_the_settings_move_scenarios_and_generated_tests(myinfra: Path) -> None:
    (myinfra / "checks").mkdir()
    (myinfra / "scenarios").rename(myinfra / "checks" / "cases")  # no dir named scenarios
    scenario = myinfra / "checks/cases/web.toml"
    scenario.write_text(scenario.read_text().replace('"../', '"../../'))
    (myinfra / "pyproject.toml").write_text(
        "[tool.nixos-nspawn]\n"
        'scenario-dirs = ["checks/cases"]\n'
        'tests-dir = "generated"\n'
        'checks-attr = "legacyPackages.{system}.scenarios.{name}"\n'
    )
    assert harness(myinfra, "render").stdout == "wrote generated/web.nix\n"
    text = (myinfra / "generated/web.nix").read_text()
    assert "        ../hosts/web.nix\n" in text
    listing = json.loads(harness(myinfra, "list", "--json", "--system", SYSTEM).stdout)
    assert [job["attr"] for job in listing] == [f"legacyPackages.{SYSTEM}.scenarios.web"]
    assert collected(myinfra) == [item.replace("scenarios/", "checks/cases/") for item in WEB_ITEMS]
    # The runner: the committed test at its place; a fresh rendering, one level deeper, has its
    # paths relative to its own place.
    commit_all(myinfra)
    loaded = load_scenario(scenario)
    committed = catalogue.build_target(myinfra, loaded, SYSTEM)
    assert committed.installable() == (f".#legacyPackages.{SYSTEM}.scenarios.web",)
    git(myinfra, "rm", "-q", "--cached", "hosts/web.nix")
    fresh = catalogue.build_target(myinfra, loaded, SYSTEM)
    assert fresh.rendered is not None
    assert "        ../../hosts/web.nix\n" in fresh.rendered.read_text()


def test_bad_settings_are_located_errors(myinfra: Path) -> None:
    (myinfra / "pyproject.toml").write_text(
        '[project]\nname = "myinfra"\n\n[tool.nixos-nspawn]\ntests-dir = "../elsewhere"\n'
        'input = "nixos nspawn"\nscenario-dir = ["x"]\n'
    )
    result = harness(myinfra, "validate")
    assert result.returncode == 1
    pyproject = myinfra / "pyproject.toml"
    assert result.stdout.splitlines() == [
        f"{pyproject}:5: tool.nixos-nspawn.tests-dir: '../elsewhere' leaves the flake root",
        f"{pyproject}:6: tool.nixos-nspawn.input: expected the name of a flake input (or "
        "'self'), got 'nixos nspawn'",
        f"{pyproject}:7: tool.nixos-nspawn.scenario-dir: unknown key; did you mean "
        "'scenario-dirs'?",
    ]
    run = collect_only(myinfra)
    assert run.returncode == 4  # a usage error, with the messages
    assert "tool.nixos-nspawn.tests-dir: '../elsewhere' leaves the flake root" in run.stderr


def nix_eval(expression: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "-E", expression],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def imports_of(
    test: Path, user_modules: str, machines: str = "{ inherit host db client; }"
) -> subprocess.CompletedProcess[str]:
    """What the generated test's machines import, each path as its absolute name."""
    name = "x: if builtins.isPath x || builtins.isString x then toString x else builtins.typeOf x"
    return nix_eval(
        f"let show = map ({name}); "
        f'test = import {test} {{ nixosModules.host = "HOST"; checksPackage = p: p; '
        f"userModules = {user_modules}; }}; node = test.nodes.host {{ lib.mkDefault = x: x; }}; "
        "host = show node.imports; "
        "db = show node.nixos-nspawn.containers.db.config.imports; "
        f"client = show test.nodes.client.imports; in {machines}",
        test.parent,
    )


@needs_nix
def test_generated_paths_parse_and_resolve_to_the_users_files(myinfra: Path) -> None:
    harness(myinfra, "render")
    generated = sorted((myinfra / "nix/tests").glob("*.nix"))
    parse = subprocess.run(["nix-instantiate", "--parse", *generated], capture_output=True)
    assert parse.returncode == 0, parse.stderr
    result = imports_of(myinfra / "nix/tests/web.nix", '{ monitoring = "MONITORING"; }')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "host": ["HOST", str(myinfra / "hosts/web.nix"), "MONITORING", "set"],
        "db": [str(myinfra / "containers/db.nix")],
        "client": ["MONITORING"],
    }
    missing = imports_of(myinfra / "nix/tests/web.nix", "{ }", machines="host")
    assert missing.returncode != 0
    assert (
        "scenario scenarios/web.toml: [host] modules: the flake has no nixosModules.monitoring"
        in missing.stderr
    )


@needs_nix
def test_a_specialisations_paths_resolve_in_it(myinfra: Path) -> None:
    (myinfra / "hosts/web-v2.nix").write_text("{ }\n")
    scenario = myinfra / "scenarios/web.toml"
    scenario.write_text(
        scenario.read_text().replace(
            "[nodes.client]",
            '[host.specialisations.v2]\nimports = ["../hosts/web-v2.nix"]\n'
            'modules = ["monitoring"]\nconfig = "{ }"\n\n[nodes.client]',
        )
    )
    harness(myinfra, "render")
    show = "x: if builtins.isPath x || builtins.isString x then toString x else builtins.typeOf x"
    test = myinfra / "nix/tests/web.nix"
    result = nix_eval(
        f'let test = import {test} {{ nixosModules.host = "HOST"; checksPackage = p: p; '
        'userModules.monitoring = "MONITORING"; }; '
        "host = test.nodes.host { lib.mkDefault = x: x; }; "
        f"in map ({show}) host.specialisation.v2.configuration.imports",
        myinfra,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [str(myinfra / "hosts/web-v2.nix"), "MONITORING", "set"]


@needs_nix
def test_an_awkward_file_name_and_a_directory_resolve_too(myinfra: Path) -> None:
    (myinfra / "hosts/my web's host.nix").write_text("{ }\n")
    (myinfra / "containers/db").mkdir()
    (myinfra / "containers/db/default.nix").write_text("{ }\n")
    scenario = myinfra / "scenarios/web.toml"
    scenario.write_text(
        scenario.read_text()
        .replace('"../hosts/web.nix"', '"../hosts/my web\'s host.nix"')
        .replace('"../containers/db.nix"', '"../containers/db/"')
    )
    harness(myinfra, "render")
    text = (myinfra / "nix/tests/web.nix").read_text()
    assert '(./. + "/../../hosts/my web\'s host.nix")' in text
    assert "db.config.imports = [ ../../containers/db ];" in text
    result = imports_of(myinfra / "nix/tests/web.nix", '{ monitoring = "MONITORING"; }')
    assert result.returncode == 0, result.stderr
    paths = json.loads(result.stdout)
    assert paths["host"][1] == str(myinfra / "hosts/my web's host.nix")
    assert paths["db"] == [str(myinfra / "containers/db")]


# --- what the runner builds -------------------------------------------------------------


def test_a_committed_test_builds_the_users_check(myinfra: Path, fake_nix) -> None:
    harness(myinfra, "render")
    commit_all(myinfra)
    scenario = load_scenario(myinfra / "scenarios/web.toml")
    target = catalogue.build_target(myinfra, scenario, SYSTEM)
    assert target.rendered is None
    assert target.describe() == f"flake check checks.{SYSTEM}.web"
    assert build(target, timeout=30, on_line=lambda line: None).succeeded
    assert fake_nix.calls()[-1][-1] == f".#checks.{SYSTEM}.web"


@needs_nix
def test_an_untracked_import_builds_from_the_working_tree_and_says_so(
    myinfra: Path, fake_nix
) -> None:
    harness(myinfra, "render")
    commit_all(myinfra)
    git(myinfra, "rm", "-q", "--cached", "hosts/web.nix")
    scenario = load_scenario(myinfra / "scenarios/web.toml")
    target = catalogue.build_target(myinfra, scenario, SYSTEM)
    fresh = myinfra / ".nixos-nspawn/rendered/web.nix"
    assert target.rendered == fresh
    assert target.untracked == ("hosts/web.nix",)
    assert target.describe() == (
        "freshly rendered web.nix, from the working tree: it imports files git does not track "
        "(hosts/web.nix), which the flake's own checks cannot see: `git add` them"
    )
    assert build(target, timeout=30, on_line=lambda line: None).succeeded
    expression = fake_nix.calls()[-1][-1]
    assert "nn = flake.inputs.nixos-nspawn or (throw " in expression
    assert f'file = /. + "{fresh}"' in expression
    # The fresh rendering's paths are relative to its own place, and reach the same files.
    result = imports_of(fresh, '{ monitoring = "MONITORING"; }')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["host"][1] == str(myinfra / "hosts/web.nix")


@pytest.mark.skipif(shutil.which("nix") is None, reason="needs the real nix")
def test_the_uncommitted_route_through_the_users_input_with_real_nix(
    myinfra: Path, tmp_path: Path
) -> None:
    """The --expr of the fresh route with the real nix: nixos-nspawn comes from the user's
    input, pkgs from the user's nixpkgs, userModules from the user's flake, and the
    rendering's paths from the working tree (an untracked file included)."""
    stubs = tmp_path / "stubs"
    for name, pkgs in (("nixpkgs", "users-pkgs"), ("nn-nixpkgs", "nn-pkgs")):
        (stubs / name).mkdir(parents=True)
        (stubs / name / "flake.nix").write_text(
            f'{{ outputs = _: {{ legacyPackages.{SYSTEM}.name = "{pkgs}"; }}; }}\n'
        )
    (stubs / "nixos-nspawn").mkdir()
    (stubs / "nixos-nspawn" / "flake.nix").write_text(
        f'{{ inputs.nixpkgs.url = "path:{stubs}/nn-nixpkgs"; outputs = {{ self, nixpkgs }}: '
        "{ lib.mkScenarioTest = { pkgs, file, modules }: { pkgs = pkgs.name; "
        'test = import file { nixosModules.host = "HOST"; checksPackage = p: p; '
        "userModules = modules; }; }; }; }\n"
    )
    (myinfra / "flake.nix").write_text(
        "{ inputs.nixos-nspawn.url = "
        f'"path:{stubs}/nixos-nspawn"; inputs.nixpkgs.url = "path:{stubs}/nixpkgs"; '
        "outputs = { self, nixos-nspawn, nixpkgs }: "
        '{ nixosModules.monitoring = "MONITORING"; }; }\n'
    )
    commit_all(myinfra)
    subprocess.run(["nix", "flake", "lock"], cwd=myinfra, check=True, capture_output=True)
    git(myinfra, "add", "flake.lock")
    git(myinfra, "commit", "-q", "-m", "lock")
    (myinfra / "hosts/web.nix").rename(myinfra / "hosts/web-tracked.nix")
    git(myinfra, "rm", "-q", "--cached", "hosts/web.nix")
    (myinfra / "hosts/web.nix").write_text("{ untracked = true; }\n")
    scenario = load_scenario(myinfra / "scenarios/web.toml")
    target = catalogue.build_target(myinfra, scenario, SYSTEM)
    show = "x: if builtins.isPath x then toString x else x"
    expression = (
        f"let built = {target.expression()}; host = built.test.nodes.host "
        f"{{ lib.mkDefault = x: x; }}; in {{ inherit (built) pkgs; "
        f"host = map ({show}) (builtins.filter (x: !builtins.isAttrs x) host.imports); }}"
    )
    out = subprocess.run(
        ["nix", "eval", "--json", "--impure", "--expr", expression],
        cwd=myinfra,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "pkgs": "users-pkgs",
        "host": ["HOST", str(myinfra / "hosts/web.nix"), "MONITORING"],
    }


def test_what_pytest_says_when_an_imported_file_is_untracked(pytester, fake_nix) -> None:
    """In the user's repository, `pytest` builds through the settings' attribute (the probe
    evaluates its set) and, for an untracked import, says which file to `git add`."""
    root = write_project(pytester.path)
    (root / "pyproject.toml").write_text(
        '[tool.nixos-nspawn]\nchecks-attr = "legacyPackages.{system}.scenarios.{name}"\n'
    )
    harness(root, "render")
    commit_all(root)
    fake_nix.plan(results=[result("unit-active[db]"), result("reachable[host->db,ipv4]")])
    run = pytester.runpytest_subprocess("--nixos-nspawn-system", SYSTEM, "--nixos-nspawn-allow-tcg")
    run.assert_outcomes(passed=3)
    probe, committed = fake_nix.calls()
    assert f".#legacyPackages.{SYSTEM}.scenarios" in probe
    assert committed[-1] == f".#legacyPackages.{SYSTEM}.scenarios.web"
    git(root, "rm", "-q", "--cached", "hosts/web.nix")
    run = pytester.runpytest_subprocess("--nixos-nspawn-system", SYSTEM, "--nixos-nspawn-allow-tcg")
    run.assert_outcomes(passed=3)
    assert (
        "[nixos-nspawn] web: nix build of the freshly rendered web.nix, from the working tree: "
        "it imports files git does not track (hosts/web.nix), which the flake's own checks "
        "cannot see: `git add` them, timeout 5400 s"
    ) in run.errlines
    assert fake_nix.calls()[-1][-3:-1] == ["--impure", "--expr"]
