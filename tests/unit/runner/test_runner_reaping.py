"""Process hygiene: nothing the runner starts outlives it (real processes; /proc is walked).

The stand-in `nix` (fake_nix.py) starts a tree like nix's: a builder in a session of its own
with a child, and a daemon that double-forked (its parent gone, so no walk from nix finds it).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.fake_nix_env import processes_with, state, wait_until

from harness.run import processes
from harness.run.build import NixTarget, build

TREE = 4  # the stand-in nix, its builder, the builder's child, the daemon

HOST = """\
import sys
from pathlib import Path

from harness.run import processes
from harness.run.build import NixTarget, build

processes.KILL_GRACE_SECONDS = 1.0
build(NixTarget(Path(sys.argv[1]), "x86_64-linux", "demo", None), timeout=600,
      on_line=lambda line: None)
"""


def target(root: Path) -> NixTarget:
    return NixTarget(root, "x86_64-linux", "demo", None)


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if state(pid) not in (None, "Z")]


def test_what_a_finished_build_leaves_behind_is_killed(tmp_path, fake_nix, monkeypatch):
    """A daemon still holding nix's output would otherwise keep the build open until its
    deadline (and run on after it)."""
    monkeypatch.setattr(processes, "KILL_GRACE_SECONDS", 1.0)
    fake_nix.plan(build="success", leave_daemon=True)
    outcome = build(target(tmp_path), timeout=120, on_line=lambda line: None)
    assert len(fake_nix.daemon_pids()) == 1
    assert outcome.succeeded
    assert not outcome.process.timed_out
    assert outcome.process.seconds < 60
    assert fake_nix.survivors() == []


@pytest.mark.parametrize("mode", ["hang", "hang-ignoring-sigterm"])
def test_kill_9_of_the_runner_takes_the_whole_tree_down(tmp_path, fake_nix, mode):
    fake_nix.plan(build=mode)
    host = subprocess.Popen([sys.executable, "-c", HOST, str(tmp_path)])
    try:
        assert len(fake_nix.wait_for_survivors(TREE)) == TREE
        reaper = processes_with(f"--parent\0{host.pid}\0".encode())
    finally:
        host.kill()
        host.wait()
    assert fake_nix.wait_until_all_gone() == []
    assert len(reaper) == 1
    assert wait_until(lambda: not alive(reaper))


def test_ctrl_c_during_the_timeouts_grace_period_kills_at_once(tmp_path, fake_nix, monkeypatch):
    """The build ran out of time and its nix ignores SIGTERM; Ctrl-C then skips the grace period
    (two minutes here) and interrupts the run, like a Ctrl-C during the build itself."""
    monkeypatch.setattr(processes, "KILL_GRACE_SECONDS", 120.0)
    fake_nix.plan(build="hang-ignoring-sigterm")

    building = threading.Event()
    building.set()

    def press_ctrl_c_once_nix_was_asked_to_stop() -> None:
        if fake_nix.wait_for_sigterm(seconds=120) and building.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c_once_nix_was_asked_to_stop, daemon=True)
    presser.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            build(target(tmp_path), timeout=8, on_line=lambda line: None)
    finally:
        building.clear()
    assert time.monotonic() - started < 60
    presser.join()
    assert fake_nix.survivors() == []
    log = (tmp_path / ".nixos-nspawn" / "logs" / "demo.log").read_text()
    assert log.endswith("# interrupted: process tree killed\n")


@pytest.mark.parametrize(
    ("script", "returncode"),
    [("exit 3", 3), ("kill -TERM $$", -signal.SIGTERM), ("kill -INT $$", -signal.SIGINT)],
)
def test_the_commands_status_comes_through_the_reaper(tmp_path, script, returncode):
    outcome = processes.run_logged(
        ["sh", "-c", script],
        cwd=tmp_path,
        log_path=tmp_path / "log",
        timeout=60,
        on_line=lambda line: None,
    )
    assert outcome.returncode == returncode


def test_a_command_that_cannot_start_is_reported_in_the_log(tmp_path):
    log = tmp_path / "log"
    outcome = processes.run_logged(
        ["no-such-command-here"],
        cwd=tmp_path,
        log_path=log,
        timeout=60,
        on_line=lambda line: None,
    )
    assert outcome.returncode == 127
    assert "reaper: cannot run no-such-command-here: " in log.read_text()
