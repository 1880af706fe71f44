"""The runner with the real `nix`, on a stand-in flake whose "VM tests" are trivial derivations.

No nixpkgs is needed: the flake's nixpkgs input is a local stub, and ``lib.mkScenarioTest`` and
``checks`` build a derivation with /bin/sh that prints result lines and writes the results file
like the checks library does. This proves the exact argv, the flake/--expr routes, the probe and
the parsing of nix's real output against Nix itself.
"""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from support.gitrepo import git

from harness.run.build import build, current_system, plan_target
from harness.run.capabilities import nixpkgs_reason
from harness.run.reruns import build_with_reruns
from harness.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("nix") is None, reason="needs the real nix")

SYSTEM = current_system()

STUB_FLAKE = """\
{
  inputs.nixpkgs.url = "path:@NIXPKGS@";
  outputs = { self, nixpkgs }:
    let
      system = "@SYSTEM@";
      record = id: ok: builtins.toJSON {
        inherit id ok; check = "unit-active"; message = if ok then "" else "inactive";
        evidence = { }; seconds = 0.5;
      };
      fakeTest = name: file: derivation {
        inherit name system;
        builder = "/bin/sh";
        nonce = "@NONCE@"; # a fresh derivation per test run: nix prints no log for a built one
        rendering = builtins.readFile file;
        good = record "unit-active[web]" true;
        bad = record "reachable[host->web,ipv4]" false;
        args = [ "-c" ''
          export PATH=/bin:/usr/bin
          echo "host: starting vm"
          echo "nixos-nspawn-result: $good"
          echo "nixos-nspawn-result: $bad"
          case "$rendering" in *die*) echo "test script died" >&2; exit 1;; esac
          mkdir $out
          printf '%s\\n%s\\n' "$good" "$bad" > $out/nixos-nspawn-results.jsonl
        '' ];
      };
    in {
      lib.mkScenarioTest = { pkgs, file, modules }: fakeTest "vm-test-run-${pkgs.name}" file;
      checks.${system}.demo = fakeTest "vm-test-run-demo" ./nix/tests/demo.nix;
    };
}
"""


@pytest.fixture
def stub_flake(tmp_path) -> Path:
    # nix.conf settings (no sandbox for /bin/sh, no binary cache, no build users) come from
    # tests/conftest.py's hermetic NIX_CONFIG.
    nixpkgs = tmp_path / "nixpkgs"
    nixpkgs.mkdir()
    (nixpkgs / "flake.nix").write_text(
        f'{{ outputs = _: {{ legacyPackages.{SYSTEM} = {{ name = "stub-pkgs"; }}; }}; }}\n'
    )
    root = tmp_path / "repo"
    (root / "nix" / "tests").mkdir(parents=True)
    (root / "flake.nix").write_text(
        STUB_FLAKE.replace("@NIXPKGS@", str(nixpkgs))
        .replace("@SYSTEM@", SYSTEM)
        .replace("@NONCE@", uuid.uuid4().hex)
    )
    (root / "nix" / "tests" / "demo.nix").write_text("committed\n")
    git(root, "init", "-q")
    git(root, "add", "flake.nix", "nix/tests/demo.nix")
    git(root, "commit", "-q", "-m", "stub")
    return root


def test_probe_then_both_build_routes_with_real_nix(stub_flake):
    root = stub_flake
    # The probe locks the flake (as `nix build .#...` would) and finds nixpkgs.
    assert nixpkgs_reason(root, SYSTEM) is None
    assert (root / "flake.lock").exists()

    settings = Settings(root, input="self")
    committed = plan_target(settings, SYSTEM, "demo", lambda output: "committed\n")
    assert committed.rendered is None
    outcome = build(committed, timeout=120, on_line=lambda line: None)
    assert outcome.succeeded, outcome.log_tail()
    assert outcome.out_path is not None
    assert outcome.out_path.name.endswith("vm-test-run-demo")
    assert {i: r.ok for i, r in outcome.results.items()} == {
        "unit-active[web]": True,
        "reachable[host->web,ipv4]": False,
    }
    log = outcome.log_path.read_text()
    assert "vm-test-run-demo> nixos-nspawn-result: " in log

    # An untracked, freshly rendered scenario goes through --impure --expr.
    fresh = plan_target(settings, SYSTEM, "new", lambda output: "fresh and die\n")
    assert fresh.rendered is not None
    failed = build(fresh, timeout=120, on_line=lambda line: None)
    assert not failed.succeeded
    assert failed.status() == "nix build failed with exit status 1"
    assert "vm-test-run-stub-pkgs> test script died" in failed.log_path.read_text()
    # A failed build leaves no results file: the results come from the log lines.
    assert sorted(failed.results) == ["reachable[host->web,ipv4]", "unit-active[web]"]


def test_probe_reports_an_unobtainable_nixpkgs(stub_flake):
    flake = stub_flake / "flake.nix"
    flake.write_text(flake.read_text().replace('"path:', '"path:/nonexistent'))
    reason = nixpkgs_reason(stub_flake, SYSTEM)
    assert reason is not None
    assert reason.startswith(
        f"nixpkgs not obtainable (offline, no binary cache?): `nix eval .#checks.{SYSTEM}` "
        f"in {stub_flake} failed: error: "
    )
    assert "/nonexistent" in reason


def test_json_output_is_what_real_nix_prints(stub_flake):
    """The out path parsing relies on `nix build --json`'s shape."""
    out = subprocess.run(
        [
            "nix",
            "--extra-experimental-features",
            "nix-command flakes",
            "build",
            "--no-link",
            "--json",
            f".#checks.{SYSTEM}.demo",
        ],
        cwd=stub_flake,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    ).stdout
    (built,) = json.loads(out)
    assert Path(built["outputs"]["out"]).name.endswith("vm-test-run-demo")


def test_nix_does_not_cache_a_failed_build_so_a_rerun_runs_the_test_again(stub_flake):
    """What --nixos-nspawn-reruns relies on: a derivation whose builder failed registered no
    output, so building it again runs its builder (the test) again; each attempt has its log."""
    assert nixpkgs_reason(stub_flake, SYSTEM) is None  # locks the flake, as a run's probe does
    settings = Settings(stub_flake, input="self")
    fresh = plan_target(settings, SYSTEM, "new", lambda output: "fresh and die\n")
    said: list[str] = []
    attempts = build_with_reruns(
        fresh, timeout=120, reruns=1, on_line=lambda line: None, say=said.append
    )
    assert len(attempts.outcomes) == 2
    assert said == ["attempt 1: nix build failed with exit status 1; building again"]
    first, second = (outcome.log_path for outcome in attempts.outcomes)
    assert (first.name, second.name) == ("new.log", "new.attempt-2.log")
    for log in (first, second):
        assert "vm-test-run-stub-pkgs> test script died" in log.read_text()  # the builder ran
    assert attempts.verdict("reachable[host->web,ipv4]").passes() == (False, False)
