"""A pytest-html report opened in headless Chromium (unit and runtime tiers).

The browser is :class:`support.browser.Chromium` (the DevTools protocol over a pipe, a fresh
profile, every non-loopback request refused and recorded by a proxy). pytest-html builds its
table in the browser, so the report's content is read from the DOM after the page loaded.
"""

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support.browser import (
    Chromium,
    RecordingProxy,
    chromium_binary,
    errors_of,
    requested_urls,
)

ARTIFACTS_ENV = "NIXOS_NSPAWN_ARTIFACTS"
PAGE_SIZE = (1400, 2400)
"""The screenshot's size: the failed item (pytest-html sorts it first) and its pictures."""


@dataclass(frozen=True)
class Opened:
    """What the browser made of a report."""

    dom: str
    """The DOM, serialised after the page's scripts ran."""
    errors: list[str]
    """Console errors, exceptions and failed loads."""
    leaving: list[str]
    """What the page requested beyond the report file itself and inline data (Chromium's own
    services go to the proxy too, which refuses everything; they are not the page's)."""


def open_report(page: Path, png: Path) -> Opened:
    """Load ``page`` (a local file), read its DOM, screenshot it to ``png``."""
    binary = chromium_binary()
    assert binary is not None, "callers skip without chromium"
    proxy = RecordingProxy()
    with tempfile.TemporaryDirectory(prefix="nixos-nspawn-chromium-") as profile:
        browser = Chromium(binary, Path(profile), proxy.port)
        try:
            width, height = PAGE_SIZE
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                session=browser.session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            events = browser.open(page.absolute().as_uri())
            dom: Any = browser.evaluate("document.documentElement.outerHTML")
            browser.screenshot(png)
        finally:
            browser.close()
            proxy.close()
    local = {"file", "data", "blob", "about"}
    leaving = [url for url in requested_urls(events) if urlsplit(url).scheme not in local]
    return Opened(str(dom), errors_of(events), leaving)


def artifacts_dir(root: Path) -> Path:
    """Where the tests keep their screenshots: $NIXOS_NSPAWN_ARTIFACTS, else
    ``<root>/.nixos-nspawn/artifacts`` (git ignores ``.nixos-nspawn/``). Not pytest's temporary
    directories: the next runs rotate those away."""
    chosen = os.environ.get(ARTIFACTS_ENV)
    path = Path(chosen) if chosen else root / ".nixos-nspawn" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def item_rows(dom: str) -> dict[str, str]:
    """Each test's part of a pytest-html report's DOM (a <tbody> per test; the evidence tables
    have <tbody>s of their own, so a row ends where the next test's begins), by test id."""
    starts = list(re.finditer(r'<tbody class="results-table-row [^"]*" id="([^"]*)"', dom))
    ends = [m.start() for m in starts[1:]] + [len(dom)]
    return {m.group(1): dom[m.start() : end] for m, end in zip(starts, ends, strict=True)}


def show_artifact(config: Any, name: str, path: Path) -> None:
    """Name a kept file on the terminal, past pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n[artifact] {name}: {path}", file=sys.stderr, flush=True)
