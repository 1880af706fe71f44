"""The built manual in a real browser: headless Chromium loads every page from a local HTTP
server without a console error, makes no request that leaves the machine (fonts and scripts
included: every other request goes to a recording proxy), finds a known term with the site's
search, and draws a scenario's topology as an SVG element. A screenshot of that page is kept
under .nixos-nspawn/artifacts/."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.browser import (
    Chromium,
    RecordingProxy,
    chromium_binary,
    errors_of,
    requested_urls,
    site_server,
)

from harness.catalogue import find_root

ROOT = find_root(Path(__file__))
ARTIFACTS = ROOT / ".nixos-nspawn" / "artifacts"
SEARCH_TERM = "machinectl"
BROWSER_SERVICES = {"update.googleapis.com", "accounts.google.com"}
"""Chromium's own component updater and account service, which no flag of Debian's Chromium
turns off entirely: the proxy refuses them too (nothing leaves the machine), and any other host
in its list fails the test, whoever asked for it."""
SEARCH_RESULTS = "[...document.querySelectorAll('#mkdocs-search-results a')].map(a => a.href)"
TOPOLOGY = """(() => {
  const picture = document.querySelector('.topology svg');
  if (!picture) return null;
  const box = picture.getBoundingClientRect();
  return {
    svg: picture instanceof SVGSVGElement,
    width: box.width,
    height: box.height,
    texts: [...picture.querySelectorAll('text')].map(t => t.textContent),
  };
})()"""

pytestmark = pytest.mark.skipif(
    chromium_binary() is None, reason="chromium is not installed (./scripts/install.sh)"
)


@pytest.fixture
def browser(tmp_path: Path):
    proxy = RecordingProxy()
    chromium = Chromium(str(chromium_binary()), tmp_path / "profile", proxy.port)
    try:
        yield chromium, proxy
    finally:
        chromium.close()
        proxy.close()


def test_the_manual_in_headless_chromium(site: Path, browser) -> None:
    chromium, proxy = browser
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "catalogue/zones.html" in pages
    with site_server(site) as base:
        origin = urlsplit(base).netloc
        requested: list[str] = []
        for page in [p for p in pages if p != "404.html"]:
            events = chromium.open(base + page)
            assert errors_of(events) == [], page
            requested += requested_urls(events)

        events = chromium.open(f"{base}index.html?q={SEARCH_TERM}")
        results: list[str] = []
        for _ in range(300):  # the index is built in a web worker: up to 15 s on a busy machine
            results = chromium.evaluate(SEARCH_RESULTS)
            if results:
                break
            chromium.evaluate("new Promise(done => setTimeout(done, 50))")
        assert any(url.startswith(f"{base}operations.html") for url in results), results
        requested += requested_urls(events)

        events = chromium.open(base + "catalogue/zones.html")
        requested += requested_urls(events)
        drawn = chromium.evaluate(TOPOLOGY)
        assert drawn is not None
        assert drawn["svg"]
        assert drawn["width"] > 100
        assert drawn["height"] > 100
        assert {"vz-lab", "vz-dmz", "vb-alpha", "host0"} <= set(drawn["texts"])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = chromium.screenshot(ARTIFACTS / "manual-zones.png")
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 1000

    leaving = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob", "about"} and urlsplit(url).netloc != origin
    ]
    assert leaving == []
    refused = {request_host(line) for line in proxy.requests}
    assert refused <= BROWSER_SERVICES, json.dumps(proxy.requests)


def request_host(line: str) -> str:
    """The host a proxied request names: ``CONNECT host:443 HTTP/1.1`` or
    ``GET http://host/path HTTP/1.1``."""
    method, target = line.split(" ")[:2]
    if method == "CONNECT":
        return target.rsplit(":", 1)[0]
    return urlsplit(target).hostname or target
