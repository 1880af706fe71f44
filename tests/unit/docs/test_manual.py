"""The manual under docs/: a strict MkDocs build (no broken link or anchor), a site that loads
nothing from elsewhere, every page reachable, and the README's pointers into it."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from support.manual import build

from harness.catalogue import find_root
from harness.scenario.load import load_scenario

ROOT = find_root(Path(__file__))

# Elements whose attribute makes the browser fetch something on its own.
FETCHING = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("image", "href"),
    ("use", "href"),
}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in FETCHING or name == "srcset" or name == "xlink:href":
                self.fetched.append(value)
            if tag == "a" and name == "href":
                self.links.append(value)


def parsed(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def is_external(url: str) -> bool:
    return bool(
        urlsplit(url).scheme in {"http", "https", "ftp", "ws", "wss"} or url.startswith("//")
    )


def test_the_site_builds_strictly(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "catalogue" / "zones.html").is_file()
    assert (site / "search" / "search_index.json").is_file()


def test_a_broken_link_or_anchor_fails_the_build(site: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", symlinks=False)
    page = tmp_path / "docs" / "operations.md"
    page.write_text(page.read_text() + "\n[gone](networking.md#no-such-section)\n")
    result = build(tmp_path / "mkdocs.yml", tmp_path / "out")
    assert result.returncode != 0
    assert "no-such-section" in result.stderr


def test_nothing_is_fetched_from_elsewhere(site: Path) -> None:
    """No page, style sheet or script of the site refers to a resource on another host
    (hyperlinks to other sites are fine: a reader follows them, the browser does not)."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        external = [url for url in parsed(page).fetched if is_external(url)]
        assert not external, f"{page.relative_to(site)} fetches {external}"
    for sheet in site.rglob("*.css"):
        urls = re.findall(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", sheet.read_text())
        external = [url for url in urls if is_external(url)]
        assert not external, f"{sheet.relative_to(site)} fetches {external}"
    for script in site.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        for call in re.findall(r"importScripts\(([^)]*)\)", text):
            assert not re.search(r"['\"](?:https?:)?//", call), f"{script}: {call}"


def test_every_page_is_reachable_from_the_home_page(site: Path) -> None:
    pages = {p for p in site.rglob("*.html") if p.name != "404.html"}
    seen: set[Path] = set()
    todo = [site / "index.html"]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        base = "file://" + page.as_posix()
        for link in parsed(page).links:
            target = urlsplit(urljoin(base, link))
            if target.scheme == "file" and target.path.endswith(".html"):
                todo.append(Path(target.path))
    assert pages - seen == set()


def test_the_options_page_is_the_generated_reference() -> None:
    """docs/options.md is written by tests/eval/export_reference.py alone (the eval tier's
    test_options_doc_is_fresh compares it with a fresh rendering); the manual shows that
    file, and the README no longer repeats it."""
    text = (ROOT / "docs" / "options.md").read_text()
    assert "by `python tests/eval/export_reference.py`; do not edit" in text.split("\n", 3)[2]
    assert re.search(r"^\s+- Options: options\.md$", (ROOT / "mkdocs.yml").read_text(), re.M)
    readme = (ROOT / "README.md").read_text()
    assert "| `nixos-nspawn.containers.<name>." not in readme


def test_readme_is_short_and_points_into_the_manual() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\(((?:docs/|CONTRIBUTING|bench/)[^)#]*)", readme):
        assert (ROOT / target).is_file(), target
    # The set-up commands are exactly what .ci/run runs.
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/install.sh" in ci
    assert "exec .venv/bin/pytest -n auto" in ci
    assert re.search(r"^\./scripts/install\.sh ", readme, re.M)
    assert re.search(r"^\.venv/bin/pytest -n auto ", readme, re.M)


def test_readme_scenario_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    (example,) = re.findall(r"^```toml\n(.*?)^```", readme, re.M | re.S)
    path = tmp_path / "web.toml"
    path.write_text(example)
    scenario = load_scenario(path)
    assert [c.name for c in scenario.containers] == ["web"]


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```<language> blocks of a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_every_yaml_example_of_the_docs_parses() -> None:
    """A CI recipe a user copies must load (PyYAML comes with MkDocs)."""
    import yaml

    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    blocks = [(page, block) for page in pages for block in fenced_blocks(page.read_text(), "yaml")]
    assert blocks, "no ```yaml block found: the test would prove nothing"
    for page, block in blocks:
        try:
            yaml.safe_load(block)
        except yaml.YAMLError as error:
            message = f"{page.relative_to(ROOT)}: a YAML example does not load: {error}"
            raise AssertionError(message) from None
