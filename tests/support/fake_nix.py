"""TEST DOUBLE for the `nix` executable, at the process boundary (never used outside tests).

The tests copy this file into a temporary bin directory as ``nix`` (with this interpreter in
the shebang) and put that directory first on PATH. It records every invocation (argv and cwd)
as one JSON line in $FAKE_NIX_RECORD and behaves as $FAKE_NIX_PLAN (a JSON file) says:

  {"eval": "ok" | "offline",
   "build": "success" | "fail" | "hang" | "hang-ignoring-sigterm",
   "results": [<result records>],            # what the testScript records
   "log_results": <int>,                     # on "fail": how many of them reach the log
   "leave_daemon": <bool>,                   # on "success": leave a daemon holding the output
   "driver": "<path of a stand-in nixos-test-driver to install as bin/>",
   "attempts": [<plan>, ...]}                # the n-th build call: the plan, updated by the
                                             # n-th of these (the last one stays)

A hanging build starts processes carrying $FAKE_NIX_PLAN's "marker" in their command lines, as
nix's builders and QEMU would: a builder in a session of its own with a child, and a daemon (a
double fork, so it loses its parent; its pid goes to $FAKE_NIX_DAEMONS), then creates
$FAKE_NIX_READY. "hang-ignoring-sigterm" notes each SIGTERM it ignores in $FAKE_NIX_SIGNALS.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

DRV = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm-test-run-{name}.drv"


def record() -> None:
    with open(os.environ["FAKE_NIX_RECORD"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\n")


def result_line(result: dict[str, object]) -> str:
    return "vm-test-run-x> nixos-nspawn-result: " + json.dumps(result)


SLEEPER = "import time; time.sleep(600)"


def spawn_sleepers(marker: str) -> None:
    """Like nix: a builder in a session of its own (setsid) that starts a child of its own."""
    code = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {SLEEPER!r}, {marker!r}]); "
        "time.sleep(600)"
    )
    subprocess.Popen([sys.executable, "-c", code, marker], start_new_session=True)
    spawn_daemon(marker)


def spawn_daemon(marker: str) -> None:
    """A daemon: fork, setsid, fork again and exit; the sleeper is left without a parent.

    Only the sleeper carries the marker (the middle process is gone when this returns); its pid
    is added to $FAKE_NIX_DAEMONS.
    """
    code = (
        "import os, subprocess, sys\n"
        "os.setsid()\n"
        f"pid = subprocess.Popen([sys.executable, '-c', {SLEEPER!r}, os.environ['MARKER']]).pid\n"
        "with open(os.environ['FAKE_NIX_DAEMONS'], 'a') as daemons:\n"
        "    daemons.write(f'{pid}\\n')\n"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "MARKER": marker}, check=True)


def note_sigterm(signum: int, frame: object) -> None:
    with open(os.environ["FAKE_NIX_SIGNALS"], "a", encoding="utf-8") as signals:
        signals.write("SIGTERM\n")


def build(plan: dict[str, object], installable: str) -> int:
    mode = plan["build"]
    results = plan.get("results", [])
    assert isinstance(results, list)
    say = sys.stderr
    say.write(f"building '{DRV.format(name='x')}'...\n")
    if mode in ("hang", "hang-ignoring-sigterm"):
        if mode == "hang-ignoring-sigterm":
            signal.signal(signal.SIGTERM, note_sigterm)
        spawn_sleepers(str(plan["marker"]))
        # The whole tree is up only now: until spawn_daemon returned, the daemon's middle
        # process was alive too, and a SIGTERM then would end this double with it.
        Path(os.environ["FAKE_NIX_READY"]).touch()
        say.write("vm-test-run-x> host: starting vm\n")
        say.flush()
        time.sleep(600)
        return 0
    say.write("vm-test-run-x> host: starting vm\n")
    say.write(
        "vm-test-run-x> host: (finished: waiting for unit multi-user.target, in 9.87 seconds)\n"
    )
    shown = int(str(plan.get("log_results", len(results))))
    if "driverInteractive" not in installable:
        for result in results[:shown]:
            say.write(result_line(result) + "\n")
    if mode == "fail":
        say.write("vm-test-run-x> Traceback (most recent call last):\n")
        say.write("error: builder for '/nix/store/...-vm-test-run-x.drv' failed with exit code 1\n")
        return 1
    store = Path(os.environ["FAKE_NIX_STORE"])
    out = store / f"out-{len(list(store.iterdir()))}"
    out.mkdir(parents=True)
    if "driverInteractive" in installable:
        (out / "bin").mkdir()
        shutil.copy(str(plan["driver"]), out / "bin" / "nixos-test-driver")
        (out / "bin" / "nixos-test-driver").chmod(0o755)
    else:
        with open(out / "nixos-nspawn-results.jsonl", "w", encoding="utf-8") as jsonl:
            for result in results:
                jsonl.write(json.dumps(result) + "\n")
    if plan.get("leave_daemon"):
        spawn_daemon(str(plan["marker"]))
    print(json.dumps([{"drvPath": DRV.format(name="x"), "outputs": {"out": str(out)}}]))
    return 0


def attempt_plan(plan: dict[str, object]) -> dict[str, object]:
    """The plan of this build call: updated by its entry of "attempts", if any."""
    attempts = plan.get("attempts")
    if not isinstance(attempts, list) or not attempts:
        return plan
    with open(os.environ["FAKE_NIX_RECORD"], encoding="utf-8") as log:
        builds = sum("build" in json.loads(line)["argv"] for line in log)  # this one included
    return {**plan, **attempts[min(builds, len(attempts)) - 1]}


def main() -> int:
    record()
    plan = json.loads(Path(os.environ["FAKE_NIX_PLAN"]).read_text())
    features = ("--extra-experimental-features", "nix-command flakes")
    args = [arg for arg in sys.argv[1:] if arg not in features]
    while args[0] == "--option":  # `--option NAME VALUE` settings, before the subcommand
        args = args[3:]
    if args[0] == "eval":
        if plan.get("eval", "ok") == "offline":
            sys.stderr.write(
                "warning: error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/"
                "commits/nixos-unstable': Couldn't resolve host name (6); retrying in 340 ms\n"
                "error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/commits/"
                "nixos-unstable': Couldn't resolve host name (6)\n"
                "(use '--show-trace' to show detailed location information)\n"
            )
            return 1
        print('["x"]')
        return 0
    if args[0] == "build":
        return build(attempt_plan(plan), args[-1])
    sys.stderr.write(f"fake nix: unexpected command {args}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
