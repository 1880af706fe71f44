"""Non-regular entries under scenarios/: the CLI and the plugin report the same ones as errors,
bounded (no hang on a FIFO, no endless read of /dev/zero, no crash on a symlink loop)."""

import os
import subprocess
import sys

import pytest

from harness.cli import main
from harness.scenario.source import MAX_FILE_BYTES

DEMO = (
    'description = "d"\ncontainers.c.config = "{ }"\n'
    'expect = [{ check = "userns", container = "c" }]\n'
)

# entry name -> how to make it -> what both report
ENTRIES = {
    "loop.toml": (
        lambda path: path.symlink_to(path.name),
        "cannot read: Too many levels of symbolic links",
    ),
    "fifo.toml": (os.mkfifo, "a named pipe (FIFO), not a regular file"),
    "zero.toml": (
        lambda path: path.symlink_to("/dev/zero"),
        "a character device, not a regular file",
    ),
    "dir.toml": (
        lambda path: (path.mkdir(), (path / "inner.toml").write_text(DEMO)),
        "a directory, not a regular file",
    ),
    "dangling.toml": (
        lambda path: path.symlink_to("missing"),
        "cannot read: No such file or directory",
    ),
    "big.toml": (
        lambda path: path.write_text("#" * MAX_FILE_BYTES + "\n"),
        f"larger than {MAX_FILE_BYTES} bytes",
    ),
}
TIMEOUT = 120  # a regression (a blocking open) fails the test instead of hanging the suite


@pytest.fixture
def project(pytester):
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    scenarios = pytester.path / "scenarios"
    scenarios.mkdir()
    (scenarios / "demo.toml").write_text(DEMO)
    (scenarios / "loopdir").symlink_to(".")  # a directory loop: walked by neither
    return pytester


def make(project, *names: str) -> dict[str, str]:
    """The entries ``names`` (all by default): absolute path -> expected error line."""
    expected = {}
    for name in names or ENTRIES:
        path = project.path / "scenarios" / name
        ENTRIES[name][0](path)
        expected[str(path)] = f"{path}: (file): {ENTRIES[name][1]}"
    return expected


def cli(project, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "--root", str(project.path), *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def error_lines(text: str) -> set[str]:
    return {line for line in text.splitlines() if ": (file): " in line}


@pytest.mark.parametrize("command", [["list"], ["validate"], ["render"], ["render", "--check"]])
def test_every_cli_command_reports_each_entry(project, command):
    expected = make(project)
    done = cli(project, *command)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert error_lines(done.stdout + done.stderr) == set(expected.values())


def test_cli_and_plugin_agree_on_which_entries_are_errors(project):
    expected = make(project)
    done = cli(project, "validate")
    result = project.runpytest_subprocess("-m", "not vm", "-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(passed=1, failed=len(ENTRIES), deselected=1)
    assert error_lines(result.stdout.str()) == error_lines(done.stdout) == set(expected.values())
    for name in ENTRIES:
        result.stdout.fnmatch_lines([f"FAILED scenarios/{name}::validate-render*"])
    collection = project.runpytest_subprocess("--collect-only", "-q", timeout=TIMEOUT)
    items = [line for line in collection.outlines if "::" in line]
    assert not [item for item in items if "loopdir" in item or "inner.toml" in item]
    assert "scenarios/demo.toml::validate-render" in items


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_entry_fails_its_validate_item(project, name):
    (expected,) = make(project, name).values()
    result = project.runpytest_subprocess("-m", "not vm", "-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    assert error_lines(result.stdout.str()) == {expected}
    assert "Traceback" not in result.stdout.str()


def test_an_unreadable_file_is_an_error_for_both(project, monkeypatch, capsys):
    """Root reads any file, so the refusal is simulated where the harness opens it."""
    locked = project.path / "scenarios" / "locked.toml"
    locked.write_text(DEMO)
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr("harness.scenario.source.os.open", refuse)
    line = f"{locked}: (file): cannot read: Permission denied"
    assert main(["--root", str(project.path), "list"]) == 1
    assert error_lines(capsys.readouterr().err) == {line}
    result = project.runpytest("-m", "not vm", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    assert error_lines(result.stdout.str()) == {line}
