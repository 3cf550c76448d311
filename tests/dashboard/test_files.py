"""Only generated files under output/ are served to an approver; traversal, symlinks out and other kinds are not."""

from __future__ import annotations

from pathlib import Path

from reaccreditation.approvals.pages import file_link
from reaccreditation.dashboard.files import PREVIEW_POLICY, headers, output_file


def test_generated_files_are_served_and_nothing_else(tmp_path: Path):
    output = tmp_path / "output"
    pack = output / "2026" / "packs" / "2026-12-02"
    (pack / "charts").mkdir(parents=True)
    (pack / "leadership.preview.html").write_text("<p>pack</p>")
    (pack / "charts" / "trend.png").write_bytes(b"\x89PNG")
    (pack / "Kestrel-Vale-readiness.xlsx").write_bytes(b"PK")
    (tmp_path / "organisation.yaml").write_text("secret: yes")
    (pack / "manifest.json").write_text("{}")
    (pack / "escape.html").symlink_to(tmp_path / "organisation.yaml")

    assert output_file(output, "2026/packs/2026-12-02/leadership.preview.html") == pack / "leadership.preview.html"
    assert output_file(output, "2026/packs/2026-12-02/charts/trend.png") == pack / "charts" / "trend.png"
    for refused in (
        "../organisation.yaml",
        "2026/packs/2026-12-02/../../../../organisation.yaml",
        "/etc/passwd",
        "2026/packs/2026-12-02/manifest.json",  # not a kind an approver opens
        "2026/packs/2026-12-02/escape.html",  # a symlink out of output/
        "2026/packs/2026-12-02/missing.html",
        "2026/packs/2026-12-02",
    ):
        assert output_file(output, refused) is None, refused


def test_previews_run_nothing_and_workbooks_download():
    html = headers(Path("x/leadership.preview.html"))
    assert html["Content-Security-Policy"] == PREVIEW_POLICY and "script-src" not in PREVIEW_POLICY
    assert "default-src 'none'" in PREVIEW_POLICY and html["X-Content-Type-Options"] == "nosniff"
    assert headers(Path("x/pack.xlsx"))["Content-Disposition"] == 'attachment; filename="pack.xlsx"'


def test_the_approval_page_links_through_the_plugin(tmp_path: Path):
    output = tmp_path / "output"
    path = output / "2026" / "packs" / "2026-12-02" / "leadership.preview.html"
    assert file_link("Preview", path, output) == "[Preview](/reaccreditation/files/2026/packs/2026-12-02/leadership.preview.html)"
    assert file_link("Preview", path, None) == f"Preview `{path}`"
