"""Ctrl-C during a scenario's build, pressed on a real pytest process (stand-in `nix`).

One Ctrl-C stops the build's tree (SIGTERM, then SIGKILL after the grace period); a second one
during the grace period kills at once. Either way pytest ends as interrupted, without a
traceback, and no process of the build is left (the process table is walked).
"""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.demo import DEMO

# A grace period no test waits out: only the second Ctrl-C can end the run in time.
LONG_GRACE = """\
from harness.run import processes

processes.KILL_GRACE_SECONDS = 300.0
"""


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "scenarios").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "scenarios" / "demo.toml").write_text(DEMO)
    (root / "scenarios" / "conftest.py").write_text(LONG_GRACE)
    return root


def sigint_as_in_a_terminal() -> None:
    """A test run from a script may have SIGINT ignored, which a child would inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("mode", "presses"), [("hang", 1), ("hang-ignoring-sigterm", 2)])
@pytest.mark.parametrize(
    ("how", "message"),
    [
        ((), "!!!!! KeyboardInterrupt !!!!!"),
        (("--interactive", "demo"), "--interactive: interrupted"),
    ],
    ids=["run", "interactive"],
)
def test_ctrl_c_ends_the_run_and_the_tree_cleanly(project, fake_nix, mode, presses, how, message):
    fake_nix.plan(build=mode)
    pytest_run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "scenarios",
            "--nixos-nspawn-allow-tcg",
            "--nixos-nspawn-system",
            "x86_64-linux",
            *how,
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )
    try:
        assert len(fake_nix.wait_for_survivors(4)) == 4  # nix, a builder and its child, a daemon
        pytest_run.send_signal(signal.SIGINT)
        if presses == 2:
            # nix ignores the SIGTERM: the grace period runs.
            assert fake_nix.wait_for_sigterm()
            pytest_run.send_signal(signal.SIGINT)
        output, _ = pytest_run.communicate(timeout=120)
    finally:
        pytest_run.kill()
        pytest_run.wait()
    assert pytest_run.returncode == pytest.ExitCode.INTERRUPTED, output
    assert message in output
    assert "Traceback" not in output
    assert fake_nix.survivors() == []
    log = project / ".nixos-nspawn" / "logs" / ("demo.log" if not how else "demo.interactive.log")
    assert log.read_text().endswith("# interrupted: process tree killed\n")
