"""TEST DOUBLE for driverInteractive's `nixos-test-driver` (never used outside tests).

Like the real driver: it builds a namespace with `driver` (whose `tests` is the testScript
text, read from $FAKE_DRIVER_SCRIPT) and a machine `host`, then runs a REPL that executes each
input line with that namespace as globals and a separate locals dict, as ptpython's
embed(globals, locals) does. $FAKE_DRIVER_REPL picks the prompt: `ipython` (the default) for
ptpython.ipython.embed's `In [n]: `, `ptpython` for ptpython.repl.embed's `>>> `, `none` for
no prompt at all. Like ptpython, a KeyboardInterrupt (SIGINT) while a line runs is reported and
the REPL goes on; `exit()` or end of input leaves it. Leaving runs the driver's cleanup (its
`__exit__`), which appends "cleanup" to $FAKE_DRIVER_LOG; the log's first line is the
IPYTHONDIR the driver was started with.

With $FAKE_DRIVER_DAEMON set it first starts a daemon whose command line carries that marker
(a double fork: the sleeper loses its parent), standing in for QEMU and whatever else a driver
starts.
"""

import os
import subprocess
import sys
from pathlib import Path

LOG = Path(os.environ["FAKE_DRIVER_LOG"])


class Driver:
    def __init__(self, tests: str) -> None:
        self.tests = tests
        self.out_dir = Path.cwd()

    def __enter__(self) -> "Driver":
        return self

    def __exit__(self, *_: object) -> None:
        with LOG.open("a") as log:
            log.write("cleanup\n")


class Machine:
    def __init__(self) -> None:
        self.commands: list[str] = []

    def succeed(self, command: str) -> str:
        self.commands.append(command)
        return ""


def spawn_daemon(marker: str) -> None:
    """Fork, setsid, fork again and exit (only the sleeper carries the marker)."""
    code = (
        "import os, subprocess, sys; os.setsid(); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
        "os.environ['MARKER']]); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "MARKER": marker}, check=True)


def prompt(style: str, number: int) -> str:
    if style == "ptpython":
        return ">>> "
    if style == "none":
        return ""
    return f"\x1b[32mIn [\x1b[1m{number}\x1b[0m]: "


def repl(namespace: dict[str, object], style: str) -> None:
    local: dict[str, object] = {}
    number = 1
    while True:
        sys.stdout.write(prompt(style, number))
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return
        try:
            exec(line, namespace, local)
        except SystemExit:  # exit()
            return
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        except Exception as error:  # the REPL reports and goes on, as ptpython does
            print(f"{type(error).__name__}: {error}")
        number += 1


def main() -> int:
    if "FAKE_DRIVER_DAEMON" in os.environ:
        spawn_daemon(os.environ["FAKE_DRIVER_DAEMON"])
    LOG.write_text(f"{os.environ.get('IPYTHONDIR', '')}\n")
    with Driver(Path(os.environ["FAKE_DRIVER_SCRIPT"]).read_text()) as driver:
        repl({"driver": driver, "host": Machine()}, os.environ.get("FAKE_DRIVER_REPL", "ipython"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
