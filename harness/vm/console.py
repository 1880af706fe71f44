"""A QEMU host VM driven over its serial console, with the NixOS test driver's ``Machine`` API.

The checks in :mod:`harness.checks` are written against the NixOS test driver's ``Machine``
(``nixos/lib/test-driver/src/test_driver/machine/__init__.py``). :class:`ConsoleMachine` gives
them the same methods with the same semantics on the Debian VM of the runtime tier, so the code
the generated testScripts run is exactly the code proven here:

- ``execute(command, timeout=900)`` runs ``timeout T bash -c 'set -euo pipefail; COMMAND'`` and
  returns ``(status, stdout)``; stderr is not part of the output (it goes to the log), as in the
  driver, where it goes to the console.
- ``succeed`` / ``fail`` raise :class:`RequestedAssertionFailed` on an unexpected status;
  ``wait_until_succeeds`` / ``wait_until_fails`` retry once a second until their timeout;
  ``wait_for_unit`` fails early on a ``failed`` or idle ``inactive`` unit; ``systemctl`` wraps
  ``execute``.

Framing: the autologin shell puts the serial tty in raw mode without echo (no line editing,
no special characters, no line-length limit, no CR/LF translation) and replaces itself with a
non-interactive bash reading commands from the tty (no readline, prompts or job messages). Each
command arrives verbatim in a quoted here-document with a unique delimiter and is read by a
builtin (no process spent on transport). A shell function prints ``B<id>``, the command's
stdout, ``\\nE<id> <status>``, its stderr and ``\\nX<id>``; ids are random, and the typed text
is never echoed, so the markers cannot be confused with anything else.
"""

from __future__ import annotations

import re
import shlex
import termios
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, TextIO, cast

import pexpect

from harness.vm.image import HOSTNAME, Image

BOOT_TIMEOUT = 300
MAX_COMMAND_BYTES = 16_384
"""Commands travel through the serial line's buffers; larger scripts belong in files."""

HOST_SIDE_GRACE = 60
"""Seconds the host waits beyond a command's own ``timeout`` before declaring the VM stuck."""

UNBOUNDED_CEILING = 3600
"""Host-side ceiling for ``timeout=None`` commands, so a hung VM cannot hang the test run."""

_LOGIN_SETUP = "stty raw -echo; exec env TERM=dumb bash --norc --noprofile /dev/stdin"
"""Sent to the autologin shell: raw tty, then a non-interactive bash reading the tty."""

_SHELL_SETUP = (
    "dmesg -n 1 2>/dev/null\n"
    "__nn() { local m=$1 t=$2 c; IFS= read -r -d '' c; printf 'B%s\\n' \"$m\"; "
    "( if [ \"$t\" = - ]; then bash -c \"$c\" </dev/null 2>/tmp/.nn-stderr; "
    "else timeout \"$t\" bash -c \"$c\" </dev/null 2>/tmp/.nn-stderr; fi; "
    "printf '\\nE%s %s\\n' \"$m\" \"$?\" ) 2>/dev/null; "
    "[ -s /tmp/.nn-stderr ] && cat /tmp/.nn-stderr; printf '\\nX%s\\n' \"$m\"; }\n"
)
"""The command runner, defined in that bash. The subshell keeps bash's own messages about
killed children (``timeout``) off the console."""


class TestScriptError(Exception):
    """Mirror of the driver's base class for test-script failures."""


class RequestedAssertionFailed(TestScriptError):
    """Mirror of the driver's exception for a failed ``succeed``/``fail``/wait."""


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
    if any(Path(f"/sys/module/{m}").exists() for m in ("kvm_intel", "kvm_amd")):
        return ["-enable-kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


@dataclass(frozen=True)
class VmConfig:
    image: Image
    memory_mb: int = 3072
    cpus: int = 2
    log_dir: Path | None = None
    """Where ``serial.log`` (raw console) and ``commands.log`` (readable) go; None: nowhere."""

    def argv(self) -> list[str]:
        return [
            "qemu-system-x86_64", *accelerator_args(),
            "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", "console=ttyS0 root=/dev/vda rw quiet loglevel=1 "
                       "systemd.show_status=0 panic=-1",
            "-drive", f"file={self.image.disk},format=raw,if=virtio",
            "-snapshot",  # writes go to a throw-away overlay: the cached image never changes
        ]


def _retry(fn: Callable[[bool], bool], timeout_seconds: int) -> None:
    """The driver's ``retry``: once a second until true or timed out, then one last try."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_seconds:
        if fn(False):
            return
        time.sleep(1)
    elapsed = time.monotonic() - start
    if not fn(True):
        raise RequestedAssertionFailed(
            f"action timed out after {elapsed:.2f} seconds (timeout={timeout_seconds})"
        )


@dataclass
class ConsoleMachine:
    """The host VM. Use as a context manager: QEMU is killed on exit, whatever happened."""

    config: VmConfig
    name: str = "host"
    boot_seconds: float = field(default=0.0, init=False)
    _proc: _Spawn | None = field(default=None, init=False, repr=False)
    _log: TextIO | None = field(default=None, init=False, repr=False)
    _serial: TextIO | None = field(default=None, init=False, repr=False)
    _depth: int = field(default=0, init=False, repr=False)

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
        proc = cast(_Spawn, pexpect.spawn(
            argv[0], argv[1:], encoding="utf-8", codec_errors="replace", echo=False,
            timeout=timeout, maxread=65536,
        ))
        proc.delaybeforesend = None  # the default 50 ms sleep per send dominates round trips
        proc.logfile_read = self._serial
        self._proc = proc
        self._expect(rf"root@{HOSTNAME}:[^\r\n]*# ", timeout, "the autologin root prompt")
        _no_output_processing(proc.child_fd)
        ready = f"READY{uuid.uuid4().hex[:12]}"
        proc.send(f"{_LOGIN_SETUP}\n{_SHELL_SETUP}echo '{ready[:5]}''{ready[5:]}'\n")
        self._expect(rf"{ready}\n", 60, "the shell setup")
        self.boot_seconds = time.monotonic() - started
        self.log(f"shell ready after {self.boot_seconds:.1f}s")

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

    def is_up(self) -> bool:
        return self._proc is not None and self._proc.isalive()

    # -- logging (the driver's log/nested, kept to a plain text file) --------------------------

    def log(self, msg: str) -> None:
        if self._log is not None:
            self._log.write(f"{'  ' * self._depth}{msg}\n")
            self._log.flush()

    @contextmanager
    def nested(self, msg: str, attrs: dict[str, str] | None = None) -> Iterator[None]:
        self.log(msg)
        self._depth += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._depth -= 1
            self.log(f"({time.monotonic() - started:.2f} seconds)")

    # -- the command channel -------------------------------------------------------------------

    def execute(
        self,
        command: str,
        check_return: bool = True,
        check_output: bool = True,
        timeout: int | None = 900,
    ) -> tuple[int, str]:
        """Run *command* under ``bash -c 'set -euo pipefail; …'``; return (status, stdout).

        ``check_return``/``check_output`` are accepted for API compatibility; output and status
        are always read here, because skipping them would desynchronise the console.
        """
        script = f"set -euo pipefail; {command}"
        if len(script.encode()) > MAX_COMMAND_BYTES:
            raise ValueError(f"command is {len(script.encode())} bytes, more than "
                             f"{MAX_COMMAND_BYTES}")
        marker = uuid.uuid4().hex[:16]
        limit = "-" if timeout is None else str(int(timeout))
        host_wait = (UNBOUNDED_CEILING if timeout is None else timeout) + HOST_SIDE_GRACE
        started = time.monotonic()
        proc = self._live()
        proc.send(f"__nn {marker} {limit} <<'__NN_{marker}'\n{script}\n__NN_{marker}\n")
        self._expect(rf"B{marker}\n", host_wait, f"the start of `{command}`")
        self._expect(rf"\nE{marker} (\d+)\n", host_wait, f"the end of `{command}`")
        status = int(proc.match.group(1))
        stdout = proc.before
        self._expect(rf"\nX{marker}\n", HOST_SIDE_GRACE, f"the stderr of `{command}`")
        stderr = proc.before
        self.log(f"$ {command}\n  -> exit {status} in {time.monotonic() - started:.2f}s")
        for label, text in (("stdout", stdout), ("stderr", stderr)):
            if text:
                self.log(f"  {label}: " + text.rstrip("\n").replace("\n", "\n    "))
        return status, stdout

    def succeed(self, *commands: str, timeout: int | None = None) -> str:
        output = ""
        for command in commands:
            with self.nested(f"must succeed: {command}"):
                status, out = self.execute(command, timeout=timeout)
                if status != 0:
                    self.log(f"output: {out}")
                    raise RequestedAssertionFailed(
                        f"command `{command}` failed (exit code {status})"
                    )
                output += out
        return output

    def fail(self, *commands: str, timeout: int | None = None) -> str:
        output = ""
        for command in commands:
            with self.nested(f"must fail: {command}"):
                status, out = self.execute(command, timeout=timeout)
                if status == 0:
                    raise RequestedAssertionFailed(f"command `{command}` unexpectedly succeeded")
                output += out
        return output

    def wait_until_succeeds(self, command: str, timeout: int = 900) -> str:
        output = ""

        def check_success(_last_try: bool) -> bool:
            nonlocal output
            status, output = self.execute(command, timeout=timeout)
            return status == 0

        with self.nested(f"waiting for success: {command}"):
            _retry(check_success, timeout)
            return output

    def wait_until_fails(self, command: str, timeout: int = 900) -> str:
        output = ""

        def check_failure(_last_try: bool) -> bool:
            nonlocal output
            status, output = self.execute(command, timeout=timeout)
            return status != 0

        with self.nested(f"waiting for failure: {command}"):
            _retry(check_failure, timeout)
            return output

    def sleep(self, secs: int) -> None:
        self.succeed(f"sleep {secs}")

    # -- systemd helpers, as in the driver ------------------------------------------------------

    def systemctl(self, q: str, user: str | None = None) -> tuple[int, str]:
        if user is not None:
            q = q.replace("'", "\\'")
            return self.execute(
                f"su -l {user} --shell /bin/sh -c "
                "$'XDG_RUNTIME_DIR=/run/user/`id -u` "
                f"systemctl --user {q}'"
            )
        return self.execute(f"systemctl {q}")

    def get_unit_info(self, unit: str, user: str | None = None) -> dict[str, str]:
        status, lines = self.systemctl(f'--no-pager show "{unit}"', user)
        if status != 0:
            raise RequestedAssertionFailed(
                f'retrieving systemctl info for unit "{unit}" failed with exit code {status}'
            )
        pattern = re.compile(r"^([^=]+)=(.*)$")
        return {
            m[1]: m[2] for m in (pattern.match(line) for line in lines.split("\n")) if m
        }

    def get_unit_property(self, unit: str, property: str, user: str | None = None) -> str:
        status, lines = self.systemctl(
            f'--no-pager show "{unit}" --property="{property}"', user
        )
        if status != 0:
            raise RequestedAssertionFailed(
                f'retrieving systemctl property "{property}" for unit "{unit}" '
                f"failed with exit code {status}"
            )
        match = re.match(r"^([^=]+)=(.*)$", lines)
        if match is None or match[1] != property:
            raise RequestedAssertionFailed(
                f'systemctl show --property "{property}" "{unit}" produced invalid output: {lines}'
            )
        return match[2]

    def wait_for_unit(self, unit: str, user: str | None = None, timeout: int = 900) -> None:
        def check_active(_last_try: bool) -> bool:
            state = self.get_unit_property(unit, "ActiveState", user)
            if state == "failed":
                raise RequestedAssertionFailed(f'unit "{unit}" reached state "{state}"')
            if state == "inactive":
                _, jobs = self.systemctl("list-jobs --full 2>&1", user)
                if "No jobs" in jobs:
                    info = self.get_unit_info(unit, user)
                    if info["ActiveState"] == state:
                        raise RequestedAssertionFailed(
                            f'unit "{unit}" is inactive and there are no pending jobs'
                        )
            return state == "active"

        with self.nested(f"waiting for unit {unit}"):
            _retry(check_active, timeout)

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
