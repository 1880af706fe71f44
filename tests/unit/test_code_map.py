"""docs/architecture.md is a code map that cannot go stale: every file under ``harness/`` and
``nix/`` has a line there, and every path it names exists."""

import fnmatch
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"
MAPPED_TREES = ("harness", "nix")
# The first cell of a table row: one or more backticked paths (`a`, `b`).
_ROW = re.compile(r"^\| ((?:`[^`]+`(?:, )?)+) \|", re.MULTILINE)
_PATH = re.compile(r"`([^`]+)`")


def mapped_entries(text: str) -> list[str]:
    """The paths (or globs) named in the first cell of the map's table rows."""
    return [path for row in _ROW.findall(text) for path in _PATH.findall(row)]


def files_of(trees: tuple[str, ...]) -> list[str]:
    """The files git tracks, and the untracked ones it does not ignore, below ``trees``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *trees],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(path for path in listed if (ROOT / path).is_file())


def covered(path: str, entries: list[str]) -> bool:
    return any(
        path == entry
        or fnmatch.fnmatchcase(path, entry)
        or path.startswith(entry.rstrip("/") + "/")
        for entry in entries
        if entry.endswith("/") or "*" in entry or entry == path
    )


def exists(entry: str) -> bool:
    if "*" in entry:
        return any(ROOT.glob(entry))
    return (ROOT / entry).exists()


def test_the_map_names_many_paths() -> None:
    # The row pattern must see the map's tables at all, or the other tests prove nothing.
    assert len(mapped_entries(MAP.read_text())) > 40


def test_every_file_of_harness_and_nix_has_a_line() -> None:
    entries = mapped_entries(MAP.read_text())
    files = files_of(MAPPED_TREES)
    assert files, "git listed no files: the test would prove nothing"
    missing = [path for path in files if not covered(path, entries)]
    assert not missing, f"files without a line in {MAP.relative_to(ROOT)}: {missing}"


def test_every_path_the_map_names_exists() -> None:
    gone = [entry for entry in mapped_entries(MAP.read_text()) if not exists(entry)]
    assert not gone, f"{MAP.relative_to(ROOT)} names paths that do not exist: {gone}"


def test_a_directory_entry_does_not_cover_harness_or_nix() -> None:
    """Only single files (and the generated ``nix/tests/*.nix``) map ``harness/`` and ``nix/``:
    a folder's line would hide a new file of it."""
    broad = [
        entry
        for entry in mapped_entries(MAP.read_text())
        if entry.startswith(tuple(f"{tree}/" for tree in MAPPED_TREES))
        and (entry.endswith("/") or ("*" in entry and entry != "nix/tests/*.nix"))
    ]
    assert not broad, broad
