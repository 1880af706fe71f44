"""nix/host/removed-containers.sh: which containers a switch stops, against a stand-in systemctl.

The module runs the script at every activation with the names the new generation declares; the
runtime tier runs it again against real systemd (tests/runtime/plan_lifecycle.py).
"""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "nix" / "host" / "removed-containers.sh"


def _run(tmp_path: Path, mode: str, *names: str) -> tuple[list[str], list[str]]:
    """Runs the script with STATE in tmp_path; returns the stand-in systemctl's calls and the
    names the state holds afterwards."""
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    systemctl = tmp_path / "systemctl"
    systemctl.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    systemctl.chmod(0o755)
    state = tmp_path / "state" / "declared"
    subprocess.run(
        ["sh", str(SCRIPT), str(state), mode, *names],
        env={"SYSTEMCTL": str(systemctl), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return made, state.read_text().splitlines()


def test_the_first_activation_only_records_the_declared_names(tmp_path: Path) -> None:
    assert _run(tmp_path, "stop", "web", "db") == ([], ["web", "db"])


def test_a_removed_container_is_stopped_and_the_others_are_not(tmp_path: Path) -> None:
    _run(tmp_path, "stop", "web", "db", "old")
    assert _run(tmp_path, "stop", "web", "db") == (
        ["stop systemd-nspawn@old.service"],
        ["web", "db"],
    )


def test_a_renamed_container_stops_under_its_old_name(tmp_path: Path) -> None:
    _run(tmp_path, "stop", "web")
    assert _run(tmp_path, "stop", "web2") == (["stop systemd-nspawn@web.service"], ["web2"])


def test_only_declared_names_are_ever_stopped(tmp_path: Path) -> None:
    # `by-hand` was never declared: nothing in the state names it, so nothing stops it, and a
    # name that only contains a declared one (web-2 / web) is not taken for it.
    _run(tmp_path, "stop", "web-2")
    assert _run(tmp_path, "stop", "web") == (["stop systemd-nspawn@web-2.service"], ["web"])


def test_removing_the_last_container_stops_it(tmp_path: Path) -> None:
    _run(tmp_path, "stop", "web")
    assert _run(tmp_path, "stop") == (["stop systemd-nspawn@web.service"], [])
    assert _run(tmp_path, "stop", "web") == ([], ["web"])


def test_keep_and_record_stop_nothing(tmp_path: Path) -> None:
    _run(tmp_path, "stop", "web", "db")
    assert _run(tmp_path, "keep", "db") == ([], ["db"])
    assert _run(tmp_path, "record") == ([], [])


def test_keep_says_what_keeps_running_and_record_says_nothing(tmp_path: Path) -> None:
    _run(tmp_path, "stop", "web", "db")
    kept = subprocess.run(
        ["sh", str(SCRIPT), str(tmp_path / "state" / "declared"), "keep", "db"],
        env={"SYSTEMCTL": "false", "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    assert kept.stdout == (
        "nixos-nspawn: the removed container web keeps running (nixos-nspawn.stopRemoved = false)\n"
    )
    recorded = subprocess.run(
        ["sh", str(SCRIPT), str(tmp_path / "state" / "declared"), "record"],
        env={"SYSTEMCTL": "false", "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    assert recorded.stdout == ""
