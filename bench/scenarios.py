"""Generated scenario catalogues: the repository's own scenarios, copied under new names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.scenario.load import load_scenario
from harness.scenario.source import read_source


def generate(sources: Sequence[Path], count: int, directory: Path) -> list[Path]:
    """``count`` scenario files in ``directory/scenarios``: the files of ``sources`` in turn,
    each copy named ``<stem>-<index>``, so that every scenario name is unique."""
    target = directory / "scenarios"
    target.mkdir(parents=True)
    texts = [read_source(source) for source in sources]  # bounded, as the loader reads
    files = []
    for index in range(count):
        source = sources[index % len(sources)]
        path = target / f"{source.stem}-{index:05d}.toml"
        path.write_text(texts[index % len(sources)], encoding="utf-8")
        files.append(path)
    return files


def collected_items(files: Sequence[Path]) -> int:
    """How many items ``pytest --collect-only`` must report: per file, its validate-render item
    and one per expectation."""
    return sum(1 + len(load_scenario(path).expectations) for path in files)
