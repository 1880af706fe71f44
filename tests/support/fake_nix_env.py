"""Installs the `nix` TEST DOUBLE (fake_nix.py) first on PATH and reads what it recorded."""

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

FAKE_NIX = Path(__file__).with_name("fake_nix.py")


class FakeNix:
    """Handle on the stand-in `nix`: set its plan, read its recorded invocations."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.store = root / "store"
        self.store.mkdir()
        self.record = root / "calls.jsonl"
        self.plan_file = root / "plan.json"
        self.signals = root / "signals.txt"
        self.daemons = root / "daemons.txt"
        self.ready = root / "ready"
        self.marker = f"fake-nix-sleeper-{os.getpid()}-{root.name}"
        nix = self.bin / "nix"
        nix.write_text(f"#!{sys.executable}\n" + FAKE_NIX.read_text())
        nix.chmod(0o755)
        self.env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_NIX_RECORD": str(self.record),
            "FAKE_NIX_PLAN": str(self.plan_file),
            "FAKE_NIX_STORE": str(self.store),
            "FAKE_NIX_SIGNALS": str(self.signals),
            "FAKE_NIX_DAEMONS": str(self.daemons),
            "FAKE_NIX_READY": str(self.ready),
        }
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        self.plan()

    def plan(self, **plan: object) -> None:
        self.plan_file.write_text(
            json.dumps({"eval": "ok", "build": "success", **plan, "marker": self.marker})
        )

    def calls(self) -> list[list[str]]:
        if not self.record.exists():
            return []
        return [json.loads(line)["argv"] for line in self.record.read_text().splitlines()]

    def cwds(self) -> list[str]:
        return [json.loads(line)["cwd"] for line in self.record.read_text().splitlines()]

    def survivors(self) -> list[int]:
        """The double and the processes it started that are still alive (walks /proc; zombies
        are dead): every command line naming the double or carrying the marker."""
        signs = (self.marker.encode(), str(self.bin / "nix").encode())
        return [pid for pid in processes_with(*signs) if state(pid) not in (None, "Z")]

    def wait_for_survivors(self, count: int) -> list[int]:
        """Poll until a hanging build has started its whole tree and ``count`` processes of the
        double are alive (they start asynchronously; a count alone can be reached while a
        process that is about to exit, the daemon's middle one, is still there)."""
        wait_until(lambda: self.ready.exists() and len(self.survivors()) == count)
        return self.survivors()

    def wait_until_all_gone(self) -> list[int]:
        """Poll until none of the double's processes is alive; returns those still alive."""
        wait_until(lambda: not self.survivors())
        return self.survivors()

    def kill_survivors(self) -> None:
        """After a test: a failed one must not leave its processes running for ten minutes."""
        for pid in self.survivors():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def sigterms(self) -> int:
        """How many SIGTERMs a "hang-ignoring-sigterm" build noted."""
        return self.signals.read_text().count("SIGTERM") if self.signals.exists() else 0

    def daemon_pids(self) -> list[int]:
        """The pids of the daemons the double started."""
        if not self.daemons.exists():
            return []
        return [int(pid) for pid in self.daemons.read_text().split()]

    def wait_for_sigterm(self, seconds: float = 60) -> bool:
        """Poll until a "hang-ignoring-sigterm" build noted a SIGTERM."""
        return wait_until(lambda: self.sigterms() > 0, seconds)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (generous: the machine may be busy)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def state(pid: int) -> str | None:
    """The one-letter state of a process (R, S, T, Z...), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def processes_with(*fragments: bytes) -> list[int]:
    """Every process whose command line contains one of ``fragments`` (zombies included)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if any(fragment in cmdline for fragment in fragments):
            found.append(int(entry))
    return found


FAILURE = "expected success, saw failure\nevidence:\n  ping\n    | 100% packet loss"


def result(id_: str, ok: bool = True, **extra: object) -> dict[str, object]:
    """A result record as harness.checks writes it: a failure's message ends with its
    evidence."""
    record: dict[str, object] = {
        "id": id_,
        "check": id_.split("[", 1)[0],
        "ok": ok,
        "message": "" if ok else f"{id_}: {FAILURE}",
        "evidence": {} if ok else {"ping": "100% packet loss"},
        "seconds": 1.5,
    }
    record.update(extra)
    return record


def fresh_expression(url: str, rendered: Path, input: str = "nixos-nspawn") -> str:
    """The --expr of the fresh route: nixos-nspawn's lib.mkScenarioTest (harness.run.build)."""
    nn = (
        "flake"
        if input == "self"
        else f'flake.inputs.{input} or (throw "the flake {url} has no input '
        f"'{input}': name nixos-nspawn's input in pyproject.toml, [tool.nixos-nspawn] "
        'input")'
    )
    return (
        f'(let flake = builtins.getFlake "{url}"; nn = {nn}; in nn.lib.mkScenarioTest '
        "{ pkgs = (flake.inputs.nixpkgs or nn.inputs.nixpkgs).legacyPackages.x86_64-linux; "
        f'file = /. + "{rendered}"; modules = flake.nixosModules or {{ }}; }})'
    )
