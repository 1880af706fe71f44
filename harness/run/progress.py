"""Live progress of a scenario build: a handful of lines on stderr instead of the whole log.

A NixOS VM test build prints thousands of lines; the full log goes to disk
(``.nixos-nspawn/logs/<name>.log``) and the terminal only gets what a waiting developer wants to
know: what nix is building, that the test VM started, and each expectation's verdict as the
testScript records it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.run.results import result_from_log_line

_BUILDING = re.compile(r"building '/nix/store/[0-9a-z]{32}-(?P<name>[^']+?)(?:\.drv)?'")
_VM_START = re.compile(r"\bstarting vm\b", re.IGNORECASE)
# The driver's log line when the testScript's wait for the booted host returns.
_BOOTED = re.compile(r"\(finished: waiting for unit multi-user\.target\b")


def summarize(line: str) -> str | None:
    """The progress event a build-log line stands for, if any."""
    result = result_from_log_line(line)
    if result is not None:
        verdict = "passed" if result.ok else "FAILED"
        return f"{result.id}: {verdict} ({result.seconds:.1f} s)"
    building = _BUILDING.search(line)
    if building is not None:
        return f"building {building.group('name')}"
    if _VM_START.search(line):
        return "test VM starting"
    if _BOOTED.search(line):
        return "test VM booted"
    return None


class Progress:
    """Writes one scenario's progress lines through ``write`` (a capture-proof stderr writer).

    Knowing the scenario's expectations in testScript order, it also names the one being
    checked: the first once the VM has booted, and the next after each result.
    """

    def __init__(
        self, write: Callable[[str], None], label: str, expectations: tuple[str, ...] = ()
    ) -> None:
        self._write = write
        self._label = label
        self._expectations = expectations

    def say(self, text: str) -> None:
        self._write(f"[nixos-nspawn] {self._label}: {text}\n")

    def _next(self, line: str) -> str | None:
        result = result_from_log_line(line)
        if result is None:
            booted = _BOOTED.search(line) is not None
            return self._expectations[0] if booted and self._expectations else None
        if result.id in self._expectations:
            index = self._expectations.index(result.id) + 1
            return self._expectations[index] if index < len(self._expectations) else None
        return None

    def feed(self, log_line: str) -> None:
        """Callback for every log line of the build."""
        event = summarize(log_line)
        if event is None:
            return
        upcoming = self._next(log_line)
        self.say(event if upcoming is None else f"{event}; checking {upcoming}")
