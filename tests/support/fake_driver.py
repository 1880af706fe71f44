"""TEST DOUBLE for driverInteractive's `nixos-test-driver` (never used outside tests).

Only the driver is a stand-in; its REPL is the real one. Like nixpkgs' driver
(nixos/lib/test-driver/src/test_driver/__init__.py) it builds the test symbols — `driver`, whose
`tests` is the testScript text (read from $FAKE_DRIVER_SCRIPT), and a machine `host` — and, inside
`with Driver(...)`, embeds ptpython the way the driver does:
`ptpython.ipython.embed(user_ns=symbols, history_filename=...)` ($FAKE_DRIVER_REPL=ipython, the
default; prompt `In [n]: `) or `ptpython.repl.embed(symbols, {}, history_filename=...)`
(`ptpython`; prompt `>>>`). So the prompt bytes, the exit confirmation of Ctrl-D and the handling
of Ctrl-C and SIGINT are prompt_toolkit's own. $FAKE_DRIVER_REPL=none reads and runs lines
without any prompt (a driver whose REPL never shows up).

`host.succeed(command)` records the command; `sleep N` prints "running sleep N" and sleeps, so a
test can interrupt a running command. With $FAKE_DRIVER_QEMU set the driver starts a stand-in QEMU
the way the real one starts its VMs: a child in the driver's own process group, its command line
carrying that marker, stopped by the driver's cleanup (SIGTERM). It notes every SIGINT and SIGTERM
it gets ("qemu: SIGINT"; in signal order, so a SIGINT that came first is noted first) and
ends only on SIGTERM. Leaving the REPL runs that cleanup (the driver's `__exit__`), which appends
"cleanup (qemu running)" or "cleanup (qemu gone)" (whether the stand-in QEMU was still alive when
the cleanup began; "cleanup" without one) after what QEMU noted to $FAKE_DRIVER_LOG, whose first
line is the IPYTHONDIR the driver was started with.

With $FAKE_DRIVER_DAEMON set it first starts a daemon whose command line carries that marker
(a double fork: the sleeper loses its parent), standing in for whatever a driver leaves behind.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

LOG = Path(os.environ["FAKE_DRIVER_LOG"])
SLEEPER = "import time; time.sleep(600)"
QEMU = """\
import os, signal, sys

def note(signum, frame):
    with open(os.environ["FAKE_DRIVER_LOG"], "a") as log:
        log.write(f"qemu: {signal.Signals(signum).name}\\n")
    if signum == signal.SIGTERM:
        sys.exit(0)

signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGTERM, note)
while True:
    signal.pause()
"""


class Driver:
    def __init__(self, tests: str) -> None:
        self.tests = tests
        self.out_dir = Path.cwd()
        self.qemu: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Driver":
        if "FAKE_DRIVER_QEMU" in os.environ:
            self.qemu = subprocess.Popen(
                [sys.executable, "-c", QEMU, os.environ["FAKE_DRIVER_QEMU"]]
            )
        return self

    def __exit__(self, *_: object) -> None:
        state = ""
        if self.qemu is not None:
            state = " (qemu running)" if self.qemu.poll() is None else " (qemu gone)"
            self.qemu.terminate()
            self.qemu.wait()
        with LOG.open("a") as log:
            log.write(f"cleanup{state}\n")


class Machine:
    def __init__(self) -> None:
        self.commands: list[str] = []

    def succeed(self, command: str) -> str:
        self.commands.append(command)
        if command.startswith("sleep "):
            print(f"running {command}", flush=True)
            time.sleep(float(command.split()[1]))
        return ""


def spawn_daemon(marker: str) -> None:
    """Fork, setsid, fork again and exit (only the sleeper carries the marker)."""
    code = (
        "import os, subprocess, sys; os.setsid(); "
        f"subprocess.Popen([sys.executable, '-c', {SLEEPER!r}, os.environ['MARKER']]); "
        "os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "MARKER": marker}, check=True)


def no_prompt(symbols: dict[str, object]) -> None:
    """Run each input line, never prompting."""
    local: dict[str, object] = {}
    for line in sys.stdin:
        exec(line, symbols, local)


def main() -> int:
    if "FAKE_DRIVER_DAEMON" in os.environ:
        spawn_daemon(os.environ["FAKE_DRIVER_DAEMON"])
    LOG.write_text(f"{os.environ.get('IPYTHONDIR', '')}\n")
    history = os.path.join(os.getcwd(), ".nixos-test-history")
    with Driver(Path(os.environ["FAKE_DRIVER_SCRIPT"]).read_text()) as driver:
        symbols: dict[str, object] = {"driver": driver, "host": Machine()}
        repl = os.environ.get("FAKE_DRIVER_REPL", "ipython")
        if repl == "ipython":
            import ptpython.ipython

            ptpython.ipython.embed(user_ns=symbols, history_filename=history)
        elif repl == "ptpython":
            import ptpython.repl

            ptpython.repl.embed(symbols, {}, history_filename=history)
        else:
            no_prompt(symbols)
    return 0


if __name__ == "__main__":
    sys.exit(main())
