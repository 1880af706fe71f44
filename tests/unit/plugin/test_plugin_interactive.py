"""`pytest --interactive` end to end in a real terminal (pexpect): stand-in nix and driver."""

import io
import os
import sys
import termios
import textwrap
from pathlib import Path

import pexpect
import pytest
import support
from support.demo import DEMO
from support.fake_nix_env import processes_with, state, wait_until

from harness.run.interactive import REPLS

FAKE_DRIVER = Path(support.__file__).with_name("fake_driver.py")

SCRIPT = textwrap.dedent(
    """\
    ran = []


    def check(expectation_id):
        ran.append(expectation_id)


    check("unit-active[web]")
    check("reachable[host->web,ipv4]")
    """
)


@pytest.fixture
def project(tmp_path, fake_nix, monkeypatch) -> Path:
    root = tmp_path / "project"
    (root / "scenarios").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "scenarios" / "demo.toml").write_text(DEMO)
    driver = tmp_path / "driver.py"
    driver.write_text(f"#!{sys.executable}\n" + FAKE_DRIVER.read_text())
    (tmp_path / "testScript.py").write_text(SCRIPT)
    monkeypatch.setenv("FAKE_DRIVER_SCRIPT", str(tmp_path / "testScript.py"))
    monkeypatch.setenv("FAKE_DRIVER_LOG", str(tmp_path / "driver.log"))
    fake_nix.plan(driver=str(driver))
    return root


def start(project: Path, target: str) -> pexpect.spawn:
    """``pytest --interactive TARGET`` in a terminal of its own."""
    return pexpect.spawn(
        sys.executable,
        [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "scenarios",
            "--interactive",
            target,
            "--nixos-nspawn-allow-tcg",
            "--nixos-nspawn-system",
            "x86_64-linux",
        ],
        cwd=str(project),
        timeout=60,
    )


def handed_over(child: pexpect.spawn) -> None:
    """Wait until the user holds the REPL: its prompt is shown and the hand-over has put our
    terminal into raw mode (what is typed before that is flushed, as in a real terminal)."""
    child.expect("the VM is yours")
    child.expect([repl.prompt for repl in REPLS])
    assert wait_until(lambda: not termios.tcgetattr(child.child_fd)[3] & termios.ICANON)


def test_interactive_hands_over_the_repl_after_the_expectations_before(project, fake_nix):
    child = start(project, "demo::reachable[host->web,ipv4]")
    try:
        child.expect(r"running up to reachable\[host->web,ipv4\] \(as requested\)")
        handed_over(child)
        child.sendline('print("R" + "AN", ran)')
        child.expect(r"RAN \['unit-active\[web\]'\]")
        child.expect([repl.prompt for repl in REPLS])
        child.sendeof()
        child.expect("Do you really want to exit")
        child.send("y")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    (build,) = [call for call in fake_nix.calls() if "build" in call]
    assert build[-1].endswith(
        'demo.nix"; modules = flake.nixosModules or { }; }).driverInteractive'
    )


@pytest.mark.parametrize("flavour", ["ipython", "ptpython"])
def test_ctrl_c_interrupts_the_command_and_leaves_the_vm_running(
    project, tmp_path, monkeypatch, flavour
):
    """A Ctrl-C typed while a command runs interrupts that command (KeyboardInterrupt in the
    driver, back at the prompt) while the VM — a stand-in QEMU in the driver's process group,
    which the terminal's Ctrl-C would reach — keeps running until the driver's cleanup. At the
    prompt, Ctrl-C stays the REPL's own key."""
    marker = f"fake-qemu-{os.getpid()}-{tmp_path.name}"
    monkeypatch.setenv("FAKE_DRIVER_QEMU", marker)
    monkeypatch.setenv("FAKE_DRIVER_REPL", flavour)
    child = start(project, "demo")
    child.logfile_read = output = io.BytesIO()
    try:
        handed_over(child)
        (qemu,) = processes_with(marker.encode())
        driver = int(Path(f"/proc/{qemu}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert os.getpgid(qemu) == os.getpgid(driver)  # where the terminal's Ctrl-C would go
        child.sendline('host.succeed("sleep 600")')
        child.expect("running sleep 600")
        child.sendcontrol("c")
        child.expect("KeyboardInterrupt")
        child.expect([repl.prompt for repl in REPLS])
        assert state(qemu) not in (None, "Z")
        # At the prompt, Ctrl-C is the REPL's key: it drops the line typed so far.
        child.send("1/0")
        child.expect("0")
        child.sendcontrol("c")
        child.sendline('print("R" + "AN", host.commands)')  # the REPL still works
        child.expect(r"RAN \['sleep 600'\]")
        child.expect([repl.prompt for repl in REPLS])
        child.sendline("exit()")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert b"ZeroDivisionError" not in output.getvalue()
    # QEMU got no SIGINT; the driver's cleanup stopped it.
    log = (tmp_path / "driver.log").read_text().splitlines()
    assert log[1:] == ["qemu: SIGTERM", "cleanup (qemu running)"]
    assert wait_until(lambda: state(qemu) in (None, "Z"))
