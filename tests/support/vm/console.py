"""A QEMU host VM driven over its serial console, answering commands as the NixOS test driver does.

The checks in :mod:`harness.checks` call one method of the NixOS test driver's ``Machine``,
``execute`` (``nixos/lib/test-driver/src/test_driver/machine/__init__.py``).
:class:`ConsoleMachine` gives it the same semantics on the Debian VM of the runtime tier, so the
code the generated testScripts run is exactly the code proven here; ``succeed`` is there for
installing the test's files.

``execute(command, timeout=900)`` runs ``timeout T bash -c 'set -euo pipefail; COMMAND'`` and
returns ``(status, stdout)``, in the environment of the driver's backdoor shell
(``nixos/modules/testing/test-instrumentation.nix``): stdin is the console tty, stdout a pipe
(the driver pipes it into ``base64``), ``PAGER`` is empty, ``TERM`` unset, the working directory
``/tmp``, and stderr is not captured: it goes to a second serial line (``/dev/ttyS1``, which QEMU
writes to ``stderr.log``), as the driver's goes to the VM's serial console.

Framing: the autologin shell puts the serial tty in raw mode without echo (no line editing,
no special characters, no line-length limit, no CR/LF translation) and replaces itself with a
non-interactive bash reading commands from the tty (no readline, prompts or job messages). Each
command arrives verbatim in a quoted here-document with a unique delimiter and is read by a
builtin (no process spent on transport). A shell function prints ``B<id>``, the command's
stdout and ``\\nE<id> <status>``; ids are random, and the typed text is never echoed, so the
markers cannot be confused with anything else.
"""

from __future__ import annotations

import re
import shlex
import termios
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, TextIO, cast

import pexpect

from harness.checks.errors import assertion_failure
from harness.run.capabilities import KVM_MODULES
from support.vm.image import HOSTNAME, Image

BOOT_TIMEOUT = 300
MAX_COMMAND_BYTES = 16_384
"""Commands travel through the serial line's buffers; larger scripts belong in files."""

HOST_SIDE_GRACE = 60
"""Seconds the host waits beyond a command's own ``timeout`` before declaring the VM stuck."""

UNBOUNDED_CEILING = 3600
"""Host-side ceiling for ``timeout=None`` commands, so a hung VM cannot hang the test run."""

GUEST_STDERR = "/dev/ttyS1"
"""Where commands' stderr goes in the guest: the VM's second serial port (see the module doc)."""

_LOGIN_SETUP = "stty raw -echo; exec bash --norc --noprofile /dev/stdin"
"""Sent to the autologin shell: raw tty, then a non-interactive bash reading the tty."""


def _shell_setup(stderr: str, ready: str) -> str:
    """Sent to that bash: the runner ``__nn ID [timeout T]``, which runs the command in
    ``$__nn_c`` with the reader's stdin (the tty); then the backdoor shell's environment (see
    the module doc) and, only if all of it worked, ``ready`` (typed in two parts, so that the
    text that arrives is not an echo)."""
    return (
        "__nn() { local m=$1; shift; printf 'B%s\\n' \"$m\"; "
        '"$@" bash -c "$__nn_c" | cat; printf \'\\nE%s %s\\n\' "$m" "${PIPESTATUS[0]}"; }\n'
        f"dmesg -n 1 2>/dev/null; exec 2>{shlex.quote(stderr)} && export PAGER= && unset TERM "
        f"&& cd /tmp && echo '{ready[:5]}''{ready[5:]}'\n"
    )


class ConsoleLost(RuntimeError):
    """The serial shell stopped answering (QEMU died, or a command outlived every timeout)."""


class _Spawn(Protocol):
    """The part of ``pexpect.spawn`` used here, narrowed to what holds for this console: it is
    spawned with an encoding (text is ``str``), and after a successful ``expect`` there is a
    match and the text before it (types-pexpect leaves both optional)."""

    before: str
    match: re.Match[str]
    delaybeforesend: float | None
    child_fd: int
    logfile_read: TextIO | None

    def expect(self, pattern: str, timeout: float | None = ...) -> int: ...
    def send(self, s: str) -> int: ...
    def isalive(self) -> bool: ...
    def terminate(self, force: bool = ...) -> bool: ...
    def close(self, force: bool = ...) -> None: ...


def accelerator_args() -> list[str]:
    """KVM only where it can boot a stock kernel (kvm_intel/kvm_amd); PVM's /dev/kvm cannot."""
    if any(Path(f"/sys/module/{m}").exists() for m in KVM_MODULES):
        return ["-enable-kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


@dataclass(frozen=True)
class VmConfig:
    image: Image
    memory_mb: int = 3072
    cpus: int = 2
    log_dir: Path | None = None
    """Where ``serial.log`` (raw console), ``commands.log`` (readable) and ``stderr.log``
    (the commands' stderr) go; None: nowhere."""
    guest_stderr: str = GUEST_STDERR

    def argv(self) -> list[str]:
        stderr = "null" if self.log_dir is None else f"file:{self.log_dir / 'stderr.log'}"
        return [
            "qemu-system-x86_64",
            *accelerator_args(),
            "-m",
            str(self.memory_mb),
            "-smp",
            str(self.cpus),
            "-nodefaults",
            "-display",
            "none",
            "-serial",
            "stdio",
            "-serial",
            stderr,
            "-no-reboot",
            "-kernel",
            str(self.image.kernel),
            "-initrd",
            str(self.image.initrd),
            "-append",
            "console=ttyS0 root=/dev/vda rw quiet loglevel=1 systemd.show_status=0 panic=-1",
            "-drive",
            f"file={self.image.disk},format=raw,if=virtio",
            "-snapshot",  # writes go to a throw-away overlay: the cached image never changes
        ]


@dataclass
class ConsoleMachine:
    """The host VM. Use as a context manager: QEMU is killed on exit, whatever happened."""

    config: VmConfig
    _proc: _Spawn | None = field(default=None, init=False, repr=False)
    _log: TextIO | None = field(default=None, init=False, repr=False)
    _serial: TextIO | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> ConsoleMachine:
        try:
            self.start()
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: int = BOOT_TIMEOUT) -> None:
        """Boot QEMU and turn the autologin root shell into the command channel."""
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            self._log = (self.config.log_dir / "commands.log").open("w", encoding="utf-8")
            self._serial = (self.config.log_dir / "serial.log").open("w", encoding="utf-8")
        started = time.monotonic()
        argv = self.config.argv()
        self.log(f"starting: {shlex.join(argv)}")
        proc = cast(
            _Spawn,
            pexpect.spawn(
                argv[0],
                argv[1:],
                encoding="utf-8",
                codec_errors="replace",
                echo=False,
                timeout=timeout,
                maxread=65536,
            ),
        )
        proc.delaybeforesend = None  # the default 50 ms sleep per send dominates round trips
        proc.logfile_read = self._serial
        self._proc = proc
        self._expect(rf"root@{HOSTNAME}:[^\r\n]*# ", timeout, "the autologin root prompt")
        _no_output_processing(proc.child_fd)
        ready = f"READY{uuid.uuid4().hex[:12]}"
        proc.send(f"{_LOGIN_SETUP}\n{_shell_setup(self.config.guest_stderr, ready)}")
        self._expect(rf"{ready}\n", 60, "the shell setup")
        self.log(f"shell ready after {time.monotonic() - started:.1f}s")

    def kill(self) -> None:
        """Stop QEMU at once (the disk is a snapshot, there is nothing to save)."""
        if self._proc is not None:
            if self._proc.isalive():
                self._proc.terminate(force=True)
            self._proc.close(force=True)
            self._proc = None
        for handle in (self._log, self._serial):
            if handle is not None:
                handle.close()
        self._log = self._serial = None

    def log(self, msg: str) -> None:
        """A line in ``commands.log``."""
        if self._log is not None:
            self._log.write(f"{msg}\n")
            self._log.flush()

    # -- the command channel -------------------------------------------------------------------

    def execute(self, command: str, timeout: int | None = 900) -> tuple[int, str]:
        """Run *command* under ``bash -c 'set -euo pipefail; …'``; return (status, stdout)."""
        script = f"set -euo pipefail; {command}"
        if len(script.encode()) > MAX_COMMAND_BYTES:
            raise ValueError(
                f"command is {len(script.encode())} bytes, more than {MAX_COMMAND_BYTES}"
            )
        marker = uuid.uuid4().hex[:16]
        limit = "" if timeout is None else f" timeout {int(timeout)}"
        host_wait = (UNBOUNDED_CEILING if timeout is None else timeout) + HOST_SIDE_GRACE
        started = time.monotonic()
        proc = self._live()
        proc.send(
            f"IFS= read -r -d '' __nn_c <<'__NN_{marker}'\n{script}\n__NN_{marker}\n"
            f"__nn {marker}{limit}\n"
        )
        self._expect(rf"B{marker}\n", host_wait, f"the start of `{command}`")
        self._expect(rf"\nE{marker} (\d+)\n", host_wait, f"the end of `{command}`")
        status = int(proc.match.group(1))
        stdout = proc.before
        self.log(f"$ {command}\n  -> exit {status} in {time.monotonic() - started:.2f}s")
        if stdout:
            self.log("  stdout: " + stdout.rstrip("\n").replace("\n", "\n    "))
        return status, stdout

    def succeed(self, *commands: str, timeout: int | None = None) -> str:
        """The driver's ``succeed``: the commands' stdout; a failed test on a non-zero status."""
        output = ""
        for command in commands:
            status, out = self.execute(command, timeout=timeout)
            if status != 0:
                self.log(f"  must succeed: {command}")
                raise assertion_failure(f"command `{command}` failed (exit code {status})")
            output += out
        return output

    # -- internals ------------------------------------------------------------------------------

    def _live(self) -> _Spawn:
        if self._proc is None or not self._proc.isalive():
            raise ConsoleLost("the VM is not running")
        return self._proc

    def _expect(self, pattern: str, timeout: float, what: str) -> None:
        proc = self._live()
        try:
            proc.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT as err:
            self.kill()
            raise ConsoleLost(f"no {what} on the serial console within {timeout:.0f}s") from err
        except pexpect.EOF as err:
            self.kill()
            raise ConsoleLost(f"QEMU exited while waiting for {what}") from err


def _no_output_processing(fd: int) -> None:
    """Stop the host-side pty from turning each LF into CR LF.

    QEMU's stdio character device leaves output processing on when it sets up the terminal, so
    without this the console's bytes would not arrive as the guest wrote them.
    """
    attrs = termios.tcgetattr(fd)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
