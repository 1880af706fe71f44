"""The console Machine's framing and driver semantics, on a local interactive bash.

The VM's serial console is an autologin bash on a tty; a local ``bash -i`` on a pty, with the
VM's prompt, exercises the same code path (raw tty, non-interactive reader shell, here-document
transport, markers) in a second instead of a minute.
"""

import shutil
from pathlib import Path

import pytest

from harness.vm.console import (
    ConsoleLost,
    ConsoleMachine,
    RequestedAssertionFailed,
    VmConfig,
    accelerator_args,
)
from harness.vm.image import Image


class LocalShell(VmConfig):
    """A VmConfig whose "VM" is a local interactive bash showing the VM's prompt."""

    def argv(self) -> list[str]:
        return ["env", "PS1=root@hostvm:~# ", "bash", "--norc", "--noprofile", "-i"]


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    config = LocalShell(Image(Path("/nonexistent")), log_dir=tmp_path_factory.mktemp("console"))
    with ConsoleMachine(config) as m:
        yield m


def test_execute_returns_status_and_stdout_only(machine):
    assert machine.execute("echo out; echo err >&2; exit 3") == (3, "out\n")


def test_commands_run_with_errexit_and_pipefail(machine):
    assert machine.execute("false; echo not reached") == (1, "")
    assert machine.execute("false | true")[0] == 1


def test_output_is_byte_exact(machine):
    status, out = machine.execute(r"printf 'a\x01b\r\nc'; printf '\tE%s 0\n' marker")
    assert status == 0
    assert out == "a\x01b\r\nc\tEmarker 0\n"


def test_large_output_and_commands_arrive_whole(machine):
    assert machine.succeed("seq 1 20000") == "".join(f"{i}\n" for i in range(1, 20001))
    script = "x=" + "y" * 8000 + "; echo ${#x}"
    assert machine.succeed(script) == "8000\n"


def test_quotes_control_characters_and_heredoc_markers_in_commands_are_harmless(machine):
    assert machine.succeed("echo \"it's\" '__NN_EOF' $((1+1))") == "it's __NN_EOF 2\n"
    assert machine.succeed("printf '%s' '\x03\x04\x15\t\\'") == "\x03\x04\x15\t\\"
    assert machine.succeed("echo 'ünïcode'") == "ünïcode\n"


def test_timeout_kills_the_command_with_status_124(machine):
    assert machine.execute("sleep 5; echo late", timeout=1) == (124, "")
    assert machine.succeed("echo still in sync") == "still in sync\n"


def test_succeed_and_fail_raise_like_the_driver(machine):
    with pytest.raises(RequestedAssertionFailed, match=r"command `exit 4` failed \(exit code 4\)"):
        machine.succeed("exit 4")
    with pytest.raises(RequestedAssertionFailed, match="unexpectedly succeeded"):
        machine.fail("true")
    assert machine.fail("echo x; exit 2") == "x\n"


def test_wait_until_succeeds_retries(machine, tmp_path):
    flag = tmp_path / "flag"
    machine.succeed(f"(sleep 1.5; touch {flag}) >/dev/null 2>&1 &")
    assert machine.wait_until_succeeds(f"test -e {flag} && echo there", timeout=10) == "there\n"


def test_wait_until_succeeds_times_out(machine):
    with pytest.raises(RequestedAssertionFailed, match="timed out"):
        machine.wait_until_succeeds("false", timeout=1)


def test_commands_too_large_for_the_tty_are_refused(machine):
    with pytest.raises(ValueError, match="more than"):
        machine.execute("echo " + "x" * 20000)


def test_a_dead_console_is_reported():
    config = LocalShell(Image(Path("/nonexistent")))
    with ConsoleMachine(config) as m:
        m.kill()
        with pytest.raises(ConsoleLost):
            m.execute("true")


def test_qemu_argv_uses_a_snapshot_and_the_image_files(tmp_path):
    argv = VmConfig(Image(tmp_path)).argv()
    assert "-snapshot" in argv
    assert f"file={tmp_path / 'host.img'},format=raw,if=virtio" in argv
    assert argv[argv.index("-kernel") + 1] == str(tmp_path / "vmlinuz")


def test_kvm_only_with_a_stock_kvm_module():
    has_stock_kvm = any(Path(f"/sys/module/{m}").exists() for m in ("kvm_intel", "kvm_amd"))
    assert ("-enable-kvm" in accelerator_args()) == has_stock_kvm
