"""The Data Docs in Chromium: a department's failing values open as text and nothing runs (stored XSS), and
the pages read with the network cut (their CSS/JS come from the site, not from CDNs)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ..dashboard.browser import Browser, chromium_binary
from .conftest import load_dag, load_make_hostile, run_loaded

IMG = "<img src=x onerror=\"window.__xss='img'\">"
SVG = "<svg onload=\"window.__xss='svg'\"></svg>"


@pytest.mark.skipif(chromium_binary() is None and not os.environ.get("CI"), reason="Chromium missing: scripts/install-browser")
def test_hostile_values_in_data_docs_show_as_text_and_never_run(airflow_db, project_db, outbox, demo, gx_dir):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import load_organisation

    make = load_make_hostile()
    org = load_organisation(demo["config"], today=make.RUN_DAY)
    inbox = demo["data"] / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "housing-evidence.xlsx").write_bytes(
        make.good(org, "housing", lambda r: [r[0] | {"evidence_type": IMG}, r[1] | {"self_rating": SVG}, *r[2:]])
    )
    assert run_loaded(load_dag("evidence_intake"), make.RUN_DAY).state == "success"
    [page] = (gx_dir / "uncommitted" / "data_docs" / "local_site" / "validations").rglob("*.html")

    site = gx_dir / "uncommitted" / "data_docs" / "local_site"
    for html in site.rglob("*.html"):  # nothing fetched from the internet: no CDN stylesheet or script left
        assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=\"https?:", html.read_text()), html

    browser = Browser(width=1200, height=900)
    try:
        browser.send("Network.enable")
        browser.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})  # offline: only file:// loads
        browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": "window.alert = () => { window.__xss = 'alert'; };"})
        browser.open(page.as_uri())
        text = browser.wait_for("document.body && document.body.innerText.includes('Unexpected') && document.body.innerText")
        assert IMG in text and SVG in text  # what the department typed, shown as text (not doubly escaped)
        assert browser.evaluate("document.querySelectorAll('img[onerror], svg[onload]').length") == 0
        assert browser.evaluate("window.__xss === undefined")  # no handler ran
        # Styled by Bootstrap, loaded from the site: its font stack, not the browser's default serif.
        assert "Segoe UI" in browser.evaluate("getComputedStyle(document.body).fontFamily")
        assert browser.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse") == "collapse"
        browser.screenshot(Path("/tmp/data-docs-validation-offline.png"))

        browser.open((site / "index.html").as_uri())  # the index's table is drawn by jQuery + bootstrap-table
        rows = browser.wait_for("document.querySelectorAll('table.table tbody tr[data-index]').length")
        assert rows >= 1
        assert "Segoe UI" in browser.evaluate("getComputedStyle(document.body).fontFamily")
        browser.screenshot(Path("/tmp/data-docs-index-offline.png"))
    finally:
        browser.close()
