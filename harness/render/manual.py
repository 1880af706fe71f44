"""The manual's generated pages: a page per catalogue scenario with its topology picture, the
catalogue's index, and the picture of how a container is wired.

``python -m harness render`` writes them under ``docs/`` and ``render --check`` reports them
stale, as it does the generated tests (:mod:`harness.catalogue`), in a repository whose
``docs/catalogue/`` exists: a repository of one's own hosts gets no pages unless it asks for them
by creating that directory. Every text that comes from a
scenario file reaches Markdown as a literal: each character that is not a letter, a digit or a
space becomes an HTML character reference, so no description, id or path can become Markdown
or HTML markup; the scenario file itself is shown HTML-escaped in a ``<pre>`` block.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.render.diagram import Guest, Port, Topology, svg, topology_svg
from harness.render.nixos_test import GENERATED_DIR, RENDER_COMMAND
from harness.scenario.model import Scenario, Step
from harness.scenario.source import read_source

CATALOGUE_DIR = Path("docs", "catalogue")
"""The scenario pages, one ``<name>.md`` each, and their ``index.md``."""
WIRING = Path("docs", "pictures", "wiring.svg")
"""The picture of how a container is wired (networking chapter, README)."""
FORMAT_PAGE = "../scenarios.md"
"""The scenario format and check reference, as a scenario page links to it."""

WIRING_TOPOLOGY = Topology(
    title="How a container is wired",
    host="host",
    containers=(
        Guest("web", binds=("/var/lib/web",)),
        Guest("alpha", zone="lab"),
        Guest("beta", zone="lab"),
        Guest("sealed", linked=False),
    ),
    ports=(Port("tcp", 8080, "web", 80),),
)


def header(source: str) -> str:
    """The first line of every generated page: what it comes from and how to refresh it."""
    return f"<!-- Generated from {html.escape(source)} by `{RENDER_COMMAND}`; do not edit. -->\n"


def is_generated(text: str) -> bool:
    """Whether a page carries the generated header."""
    first = text.split("\n", 1)[0]
    return first.startswith("<!-- Generated from ") and f"`{RENDER_COMMAND}`" in first


def literal(text: str) -> str:
    """``text`` as Markdown that shows exactly these characters, on one line."""
    return "".join(
        char if char.isalnum() and char.isascii() else f"&#{ord(char)};"
        for char in " ".join(text.split())
    ).replace("&#32;", " ")


def code(text: str) -> str:
    """``text`` as inline code that shows exactly these characters."""
    return f"<code>{literal(text)}</code>"


def _program(scenario: Scenario) -> list[str]:
    lines = []
    for number, entry in enumerate(scenario.program, 1):
        name, kind = (entry.action, "step") if isinstance(entry, Step) else (entry.check, "expect")
        where = f", line {entry.line}" if entry.line is not None else ""
        lines.append(
            f"{number}. {kind} [{name}]({FORMAT_PAGE}#{name}): {code(entry.id)}{literal(where)}"
        )
    return lines


def scenario_page(scenario: Scenario, label: str) -> str:
    """The page of one scenario; ``label`` is its file below the repository root."""
    test = (GENERATED_DIR / f"{scenario.name}.nix").as_posix()
    text = read_source(scenario.path)
    return "\n".join(
        [
            header(label) + f"# {literal(scenario.name)}",
            "",
            literal(scenario.description),
            "",
            f'<div class="topology">{topology_svg(scenario).strip()}</div>',
            "",
            f"- scenario file: {code(label)}",
            f"- generated test: {code(test)}",
            f"- its VM test: {code(f'nix build .#checks.<system>.{scenario.name}')}",
            f"- the picture alone: {code(f'python -m harness show {scenario.name} --format svg')}",
            "",
            "## Steps and expectations, in order",
            "",
            *_program(scenario),
            "",
            "## The scenario file",
            "",
            f"<pre><code>{html.escape(text)}</code></pre>",
            "",
        ]
    )


def index_page(scenarios: Sequence[Scenario], labels: Callable[[Scenario], str]) -> str:
    """The catalogue: every scenario, linked to its page, with its description's first line."""
    rows = [
        f"| [{literal(s.name)}]({s.name}.md) | {literal(s.description.strip().splitlines()[0])} |"
        for s in sorted(scenarios, key=lambda s: s.name)
    ]
    return "\n".join(
        [
            header("scenarios/") + "# Scenario catalogue",
            "",
            "Every scenario of the repository's catalogue, each a NixOS VM test. Its page shows",
            "its topology, its steps and expectations in order, and the file itself; the",
            f"format is described in [Scenario files]({FORMAT_PAGE}).",
            "",
            "| scenario | what it proves |",
            "| --- | --- |",
            *rows,
            "",
        ]
    )


def expected_pages(
    root: Path, scenarios: Sequence[Scenario], labels: Callable[[Scenario], str]
) -> dict[Path, str]:
    """Every generated page and picture of the manual: path → text (none without
    ``docs/catalogue/``)."""
    if not (root / CATALOGUE_DIR).is_dir():
        return {}
    pages = {root / CATALOGUE_DIR / f"{s.name}.md": scenario_page(s, labels(s)) for s in scenarios}
    pages[root / CATALOGUE_DIR / "index.md"] = index_page(scenarios, labels)
    pages[root / WIRING] = svg(WIRING_TOPOLOGY)
    return pages


def present_pages(root: Path) -> dict[Path, str]:
    """The generated pages that exist now (the wiring picture included); none without
    ``docs/catalogue/``."""
    if not (root / CATALOGUE_DIR).is_dir():
        return {}
    present = {
        path: path.read_text(encoding="utf-8") for path in (root / CATALOGUE_DIR).glob("*.md")
    }
    if (root / WIRING).is_file():
        present[root / WIRING] = (root / WIRING).read_text(encoding="utf-8")
    return present
