"""The documentation site as a physicist meets it (issue 27, item 3; ``make test-lab``).

Builds the site as ``make docs`` does (Sphinx, warnings are errors, into ``docs/_build/html``), serves it on
127.0.0.1, and opens in Debian's Chromium (Playwright, no browser download) the index, a rendered notebook, the
CLI reference and an API page: each page's main heading must be visible, and a figure or a table (the API page:
a documented function). Screenshots go to ``runs/docs/``. Every internal link of every built page (href and
src, with its #fragment) must lead to a file and an element that exist.

Skipped unless ``HHNB_TEST_LAB=1`` (set by ``make test-lab``), so ``make test`` neither builds nor browses.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "_build" / "html"
SHOTS = ROOT / "runs" / "docs"

#: page -> (its main heading, the CSS selector of what must be visible beside it)
PAGES = {
    "index.html": ("hhnb: neural-network selection of di-Higgs events", "article table"),
    "notebooks/evaluate.html": ("Evaluate one network", "article .cell_output img"),
    "cli.html": ("Command-line reference", "article table"),
    "api/stats.html": ("hhnb.stats", "article dl.py.function dt"),
}

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.environ.get("HHNB_TEST_LAB") != "1", reason="real-browser test: make test-lab")]


@pytest.fixture(scope="module", autouse=True)
def _screenshots_folder():
    SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def site():
    """``make docs``' build, then a local HTTP server on it; yields the base URL."""
    build = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-b", "html", "-d",
                            str(ROOT / "docs" / "_build" / "doctrees"), str(ROOT / "docs"), str(SITE)],
                           cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-5000:]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_shows_its_heading_and_content(site, browser, page_name):
    heading, selector = PAGES[page_name]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{site}/{page_name}", wait_until="load", timeout=60_000)
        h1 = page.locator("article h1").first
        h1.wait_for(state="visible", timeout=30_000)
        assert h1.inner_text().strip().rstrip("¶#").strip() == heading
        content = page.locator(selector).first
        content.scroll_into_view_if_needed()
        assert content.is_visible(), f"{page_name}: nothing visible matches {selector}"
        box = content.bounding_box()
        assert box and box["width"] > 50 and box["height"] > 10, box
        if "img" in selector:  # the figure decoded (a committed PNG output, not a broken image)
            assert page.evaluate("e => e.complete && e.naturalWidth > 100", content.element_handle())
        stem = page_name.removesuffix(".html").replace("/", "-")
        content.screenshot(path=str(SHOTS / f"{stem}-content.png"))
        h1.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{stem}.png"))
        assert errors == [], errors
    finally:
        page.close()
    assert (SHOTS / f"{stem}.png").stat().st_size > 5000


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)
            if key in ("id", "name") and value:
                self.ids.add(value)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def test_no_internal_link_is_broken(site):
    pages = sorted(SITE.rglob("*.html"))
    assert len(pages) > 20
    parsed = {p: _parse(p) for p in pages}
    broken = []
    for page, links in parsed.items():
        for link in links.links:
            url = urllib.parse.urlsplit(link)
            if url.scheme or link.startswith("//") or url.path.startswith("/"):
                continue  # external (none is needed to read the site: checked by the browser test above)
            target = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists() or not target.is_relative_to(SITE.resolve()):
                broken.append(f"{page.relative_to(SITE)}: {link}")
            elif url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(SITE)}: {link} (no #{url.fragment})")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:40])
