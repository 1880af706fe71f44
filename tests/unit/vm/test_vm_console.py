"""The console Machine's framing and driver semantics, on a local interactive bash.

The VM's serial console is an autologin bash on a tty; a local ``bash -i`` on a pty, with the
VM's prompt, exercises the same code path (raw tty, non-interactive reader shell, here-document
transport, markers, the backdoor shell's environment) in a second instead of a minute. The
commands' stderr goes to a file standing in for the VM's second serial port.
"""

import shutil
from pathlib import Path

import pytest
from support.vm.console import ConsoleLost, ConsoleMachine, VmConfig, accelerator_args
from support.vm.image import Image


class LocalShell(VmConfig):
    """A VmConfig whose "VM" is a local interactive bash showing the VM's prompt."""

    def argv(self) -> list[str]:
        return ["env", "PS1=root@hostvm:~# ", "bash", "--norc", "--noprofile", "-i"]


@pytest.fixture(scope="module")
def stderr(tmp_path_factory):
    return tmp_path_factory.mktemp("serial") / "ttyS1"


@pytest.fixture(scope="module")
def machine(tmp_path_factory, stderr):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    config = LocalShell(
        Image(Path("/nonexistent")),
        log_dir=tmp_path_factory.mktemp("console"),
        guest_stderr=str(stderr),
    )
    with ConsoleMachine(config) as m:
        yield m


def test_execute_returns_status_and_stdout_only(machine, stderr):
    assert machine.execute("echo out; echo err-7f3a >&2; exit 3") == (3, "out\n")
    assert "err-7f3a\n" in stderr.read_text()


def test_commands_run_in_the_drivers_backdoor_environment(machine):
    """As nixpkgs' backdoor shell runs them: the console tty on stdin, stdout a pipe, an
    empty PAGER, no TERM, in /tmp."""
    script = (
        "test -t 0 && echo stdin-tty; test -t 1 || echo stdout-pipe; "
        "env | grep -E '^(PAGER|TERM)=' || true; pwd"
    )
    assert machine.execute(script) == (0, "stdin-tty\nstdout-pipe\nPAGER=\n/tmp\n")


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


def test_commands_without_a_timeout_run_too(machine):
    assert machine.execute("echo unbounded", timeout=None) == (0, "unbounded\n")


def test_succeed_fails_the_test_like_the_driver(machine):
    with pytest.raises(AssertionError, match=r"command `exit 4` failed \(exit code 4\)"):
        machine.succeed("exit 4")
    assert machine.succeed("echo a", "echo b") == "a\nb\n"


def test_commands_too_large_for_the_tty_are_refused(machine):
    with pytest.raises(ValueError, match="more than"):
        machine.execute("echo " + "x" * 20000)


def test_a_dead_console_is_reported():
    config = LocalShell(Image(Path("/nonexistent")), guest_stderr="/dev/null")
    with ConsoleMachine(config) as m:
        m.kill()
        with pytest.raises(ConsoleLost):
            m.execute("true")


def test_qemu_argv_uses_a_snapshot_and_the_image_files(tmp_path):
    argv = VmConfig(Image(tmp_path), log_dir=tmp_path / "logs").argv()
    assert "-snapshot" in argv
    serials = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-serial"]
    assert serials == ["stdio", f"file:{tmp_path / 'logs' / 'stderr.log'}"]  # ttyS0, ttyS1
    assert VmConfig(Image(tmp_path)).argv().count("null") == 1
    assert f"file={tmp_path / 'host.img'},format=raw,if=virtio" in argv
    assert argv[argv.index("-kernel") + 1] == str(tmp_path / "vmlinuz")


def test_kvm_only_with_a_stock_kvm_module():
    has_stock_kvm = any(Path(f"/sys/module/{m}").exists() for m in ("kvm_intel", "kvm_amd"))
    assert ("-enable-kvm" in accelerator_args()) == has_stock_kvm
