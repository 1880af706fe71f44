"""The nix runner against the stand-in `nix` (fake_nix.py): argv, results, logs, timeouts."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.fake_nix_env import fresh_expression, result

from harness.run import processes
from harness.run.build import NixTarget, build, last_results_path, plan_target
from harness.run.progress import summarize
from harness.settings import Settings

SYSTEM = "x86_64-linux"
FEATURES = ["--extra-experimental-features", "nix-command flakes"]
BUILD = ["build", "--print-build-logs", "--no-link", "--json"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def always(text: str):
    return lambda output: text


@pytest.fixture
def flake(tmp_path) -> Path:
    """A git repository with a flake.nix and one committed generated test, nix/tests/demo.nix."""
    root = tmp_path / "repo"
    (root / "nix" / "tests").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "nix" / "tests" / "demo.nix").write_text("committed rendering\n")
    git(root, "init", "-q")
    git(root, "add", "flake.nix", "nix/tests/demo.nix")
    return root


def test_committed_fresh_scenario_builds_the_flake_check(flake):
    target = plan_target(Settings(flake), SYSTEM, "demo", always("committed rendering\n"))
    assert target.rendered is None
    assert list(target.build_argv()) == [
        "nix",
        *FEATURES,
        *BUILD,
        ".#checks.x86_64-linux.demo",
    ]
    assert list(target.build_argv("driverInteractive"))[-1] == (
        ".#checks.x86_64-linux.demo.driverInteractive"
    )


@pytest.mark.parametrize("case", ["stale", "untracked", "no-git"])
def test_edited_or_untracked_scenario_builds_the_fresh_rendering(flake, case):
    rendered = "committed rendering\n"
    if case == "stale":
        rendered = "edited rendering\n"
    elif case == "untracked":
        git(flake, "rm", "-q", "--cached", "nix/tests/demo.nix")
    else:
        shutil.rmtree(flake / ".git")
    target = plan_target(Settings(flake), SYSTEM, "demo", always(rendered))
    written = flake / ".nixos-nspawn" / "rendered" / "demo.nix"
    assert target.rendered == written
    assert written.read_text() == rendered
    url = f"path:{flake}" if case == "no-git" else f"git+file://{flake}"
    assert target.flake_url == url
    expr = fresh_expression(url, written)
    assert list(target.build_argv()) == ["nix", *FEATURES, *BUILD, "--impure", "--expr", expr]
    assert list(target.build_argv("driverInteractive"))[-1] == expr + ".driverInteractive"


BUILDERS = "ssh://builder x86_64-linux - 4 1 kvm,nixos-test"
OPTIONS = (("builders", BUILDERS), ("max-jobs", "0"))
OPTION_ARGS = ["--option", "builders", BUILDERS, "--option", "max-jobs", "0"]


@pytest.mark.parametrize("rendering", ["committed rendering\n", "edited rendering\n"])
def test_nix_options_reach_the_build_as_option_flags(flake, fake_nix, rendering):
    target = plan_target(Settings(flake), SYSTEM, "demo", always(rendering), OPTIONS)
    fake_nix.plan(build="success", results=[result("unit-active[web]")])
    outcome = build(target, timeout=30, on_line=lambda line: None)
    (call,) = fake_nix.calls()
    assert call == list(target.build_argv())[1:]
    assert call[:12] == [*FEATURES, *OPTION_ARGS, *BUILD]
    assert outcome.succeeded
    assert sorted(outcome.results) == ["unit-active[web]"]


@pytest.mark.skipif(shutil.which("nix") is None, reason="needs the real nix")
def test_expression_reaches_an_untracked_file_through_the_git_flake(tmp_path):
    """The real nix: the --expr route sees an untracked file that the git flake itself hides."""
    dep = tmp_path / "nixpkgs"
    dep.mkdir()
    (dep / "flake.nix").write_text(
        '{ outputs = _: { legacyPackages.x86_64-linux = { stand-in = "pkgs"; }; }; }\n'
    )
    root = tmp_path / "repo"
    root.mkdir()
    (root / "flake.nix").write_text(
        '{ inputs.nixpkgs.url = "path:' + str(dep) + '"; outputs = { self, nixpkgs }: '
        "{ nixosModules.own = { }; lib.mkScenarioTest = { pkgs, file, modules }: "
        "{ inherit pkgs; test = import file; modules = builtins.attrNames modules; "
        'hidden = builtins.pathExists (self + "/nix/tests/new.nix"); }; }; }\n'
    )
    nix = ["nix", *FEATURES]
    git(root, "init", "-q")
    git(root, "add", "flake.nix")
    subprocess.run([*nix, "flake", "lock"], cwd=root, check=True, capture_output=True)
    git(root, "add", "flake.lock")
    # With no commit yet nix treats the repository as a plain path; a real checkout has one.
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "flake")
    generated = root / "nix/tests/new.nix"
    generated.parent.mkdir(parents=True)
    generated.write_text('"the rendering"\n')
    target = plan_target(Settings(root, input="self"), SYSTEM, "new", always('"the rendering"\n'))
    expr = target.build_argv()[-1]
    out = subprocess.run(
        [*nix, "eval", "--json", "--impure", "--expr", expr],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out) == {
        "pkgs": {"stand-in": "pkgs"},
        "test": "the rendering",
        "modules": ["own"],
        "hidden": False,
    }


def committed_target(flake: Path) -> NixTarget:
    return NixTarget(flake, SYSTEM, "demo", None)


def test_successful_build_reads_the_results_file(flake, fake_nix):
    records = [result("unit-active[web]"), result("reachable[host->web,ipv4]", ok=False)]
    fake_nix.plan(build="success", results=records, log_results=0)
    events: list[str] = []
    outcome = build(
        committed_target(flake),
        timeout=30,
        on_line=lambda line: events.append(summarize(line) or ""),
    )
    assert fake_nix.calls() == [
        [
            "--extra-experimental-features",
            "nix-command flakes",
            *BUILD,
            ".#checks.x86_64-linux.demo",
        ]
    ]
    assert fake_nix.cwds() == [str(flake)]
    assert outcome.succeeded
    assert outcome.out_path is not None
    assert outcome.out_path.parent == fake_nix.store
    # The log carried no result lines: these came from <out>/nixos-nspawn-results.jsonl.
    assert sorted(outcome.results) == ["reachable[host->web,ipv4]", "unit-active[web]"]
    failed = outcome.results["reachable[host->web,ipv4]"]
    assert not failed.ok
    assert failed.evidence == {"ping": "100% packet loss"}
    assert "building vm-test-run-x" in events
    assert "test VM starting" in events
    log = outcome.log_path.read_text()
    assert outcome.log_path == flake / ".nixos-nspawn" / "logs" / "demo.log"
    assert log.startswith("# nix --extra-experimental-features 'nix-command flakes' build")
    assert "# exit status 0" in log
    saved = last_results_path(flake, "demo").read_text().splitlines()
    assert [json.loads(line)["id"] for line in saved] == list(outcome.results)


def test_failed_build_takes_the_results_from_the_log(flake, fake_nix):
    records = [
        result("unit-active[web]"),
        result("reachable[host->web,ipv4]", ok=False),
        result("tcp[host->web,22]"),
    ]
    fake_nix.plan(build="fail", results=records, log_results=2)
    outcome = build(committed_target(flake), timeout=30, on_line=lambda line: None)
    assert not outcome.succeeded
    assert outcome.out_path is None
    assert outcome.status() == "nix build failed with exit status 1"
    assert sorted(outcome.results) == ["reachable[host->web,ipv4]", "unit-active[web]"]
    assert outcome.results["unit-active[web]"].ok
    assert "failed with exit code 1" in outcome.log_tail(3)


TREE = 4  # the stand-in nix, its builder (in a session of its own), the builder's child, a daemon


def watch_tree(fake_nix, seen: list[int]):
    """An on_line callback: once the build reports the VM starting, note the live tree."""

    def on_line(line: str) -> None:
        if "starting vm" in line:
            seen.extend(fake_nix.wait_for_survivors(TREE))

    return on_line


@pytest.mark.parametrize("mode", ["hang", "hang-ignoring-sigterm"])
def test_timeout_kills_the_whole_process_tree(flake, fake_nix, monkeypatch, mode):
    monkeypatch.setattr(processes, "KILL_GRACE_SECONDS", 1.0)
    fake_nix.plan(build=mode)
    seen: list[int] = []
    started = time.monotonic()
    # The timeout leaves time for the tree to start even on a loaded machine.
    outcome = build(committed_target(flake), timeout=8, on_line=watch_tree(fake_nix, seen))
    assert time.monotonic() - started < 60
    assert len(seen) == TREE
    assert outcome.process.timed_out
    assert outcome.process.returncode is None
    assert "timed out after 8 s" in outcome.status()
    assert "# timed out after 8 s: process tree killed" in outcome.log_path.read_text()
    assert fake_nix.survivors() == []


def test_keyboard_interrupt_kills_the_whole_process_tree(flake, fake_nix):
    fake_nix.plan(build="hang")
    seen: list[int] = []
    watch = watch_tree(fake_nix, seen)

    def interrupt_once_the_vm_starts(line: str) -> None:
        watch(line)
        if seen:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(committed_target(flake), timeout=60, on_line=interrupt_once_the_vm_starts)
    assert len(seen) == TREE
    assert fake_nix.survivors() == []
    assert (
        "# interrupted: process tree killed"
        in (flake / ".nixos-nspawn" / "logs" / "demo.log").read_text()
    )


def test_survivor_detection_sees_a_live_sleeper(fake_nix):
    """The no-orphan assertions above can fail: a sleeper left alone is found."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", fake_nix.marker],
        start_new_session=True,
    )
    try:
        # Until the child has exec'd, /proc shows the parent's command line: give it time.
        deadline = time.monotonic() + 10
        while fake_nix.survivors() != [proc.pid] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake_nix.survivors() == [proc.pid]
    finally:
        proc.kill()
        proc.wait()
    assert fake_nix.survivors() == []
