"""The email as a phone shows it: cid images resolved to the rendered PNGs, screenshot by headless Chromium."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo import generate
from reaccreditation.organisation.config import load_organisation
from reaccreditation.packs import sources
from reaccreditation.packs.render import render_pack
from reaccreditation.packs.schedule import current_pack
from reaccreditation.packs.screenshot import local_html, screenshot

from ..conftest import FIRST_DAY
from .conftest import T30, import_history


def test_screenshot_of_the_sent_html(tmp_path):
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_history(engine, paths["history"])
    org = load_organisation(paths["config"])
    pack = current_pack(org, T30)
    manifest = render_pack(org, sources.load(org, engine, tmp_path / "out", pack.pack_date), pack, T30, tmp_path / "out")
    folder = tmp_path / "out" / "2027" / "packs" / T30.isoformat()
    assert manifest["folder"] == str(folder)

    page = local_html(folder).read_text()
    assert "cid:" not in page and 'src="charts/leadership-trend.png"' in page  # history only: the trend chart
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    png = screenshot(folder, tmp_path / "phone.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and int.from_bytes(data[16:20], "big") == 420  # width of the phone view
    assert date.fromisoformat(manifest["headline"]["pack_date"]) == T30
