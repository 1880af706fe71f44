"""Installs the `nix` TEST DOUBLE (fake_nix.py) first on PATH and reads what it recorded."""

import json
import os
import sys
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
        self.marker = f"fake-nix-sleeper-{os.getpid()}-{root.name}"
        nix = self.bin / "nix"
        nix.write_text(f"#!{sys.executable}\n" + FAKE_NIX.read_text())
        nix.chmod(0o755)
        self.env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_NIX_RECORD": str(self.record),
            "FAKE_NIX_PLAN": str(self.plan_file),
            "FAKE_NIX_STORE": str(self.store),
        }
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        self.plan()

    def plan(self, **plan: object) -> None:
        self.plan_file.write_text(json.dumps({"eval": "ok", "build": "success", **plan,
                                              "marker": self.marker}))

    def calls(self) -> list[list[str]]:
        if not self.record.exists():
            return []
        return [json.loads(line)["argv"] for line in self.record.read_text().splitlines()]

    def cwds(self) -> list[str]:
        return [json.loads(line)["cwd"] for line in self.record.read_text().splitlines()]

    def survivors(self) -> list[int]:
        """Processes the double started that are still alive (walks /proc; zombies are dead)."""
        alive = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if self.marker.encode() in cmdline and state != "Z":
                alive.append(int(entry))
        return alive


FAILURE = "expected success, saw failure\nevidence:\n  ping\n    | 100% packet loss"


def result(id_: str, ok: bool = True, **extra: object) -> dict[str, object]:
    """A result record as harness.checks writes it: a failure's message ends with its
    evidence."""
    record: dict[str, object] = {
        "id": id_, "check": id_.split("[", 1)[0], "ok": ok,
        "message": "" if ok else f"{id_}: {FAILURE}",
        "evidence": {} if ok else {"ping": "100% packet loss"}, "seconds": 1.5,
    }
    record.update(extra)
    return record
