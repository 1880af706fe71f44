"""TEST DOUBLE for driverInteractive's `nixos-test-driver` (never used outside tests).

Like the real driver: it builds a namespace with `driver` (whose `tests` is the testScript
text, read from $FAKE_DRIVER_SCRIPT) and a machine `host`, then runs a REPL that prints the
IPython-style prompt `In [n]: ` and executes each input line with that namespace as globals
and a separate locals dict, as ptpython's embed(globals, locals) does.

With $FAKE_DRIVER_DAEMON set it first starts a daemon whose command line carries that marker
(a double fork: the sleeper loses its parent), standing in for QEMU and whatever else a driver
starts.
"""

import os
import subprocess
import sys
from pathlib import Path


class Driver:
    def __init__(self, tests: str) -> None:
        self.tests = tests
        self.out_dir = Path.cwd()


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


def main() -> int:
    if "FAKE_DRIVER_DAEMON" in os.environ:
        spawn_daemon(os.environ["FAKE_DRIVER_DAEMON"])
    namespace = {
        "driver": Driver(Path(os.environ["FAKE_DRIVER_SCRIPT"]).read_text()),
        "host": Machine(),
    }
    local: dict[str, object] = {}
    number = 1
    while True:
        sys.stdout.write(f"\x1b[32mIn [\x1b[1m{number}\x1b[0m]: ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return 0
        try:
            exec(line, namespace, local)
        except Exception as error:  # the REPL reports and goes on, as ptpython does
            print(f"{type(error).__name__}: {error}")
        number += 1


if __name__ == "__main__":
    sys.exit(main())
