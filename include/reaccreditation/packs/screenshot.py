"""A phone-sized picture of a rendered pack email, for the docs and for an approver's quick look.

``python -m reaccreditation.packs.screenshot <pack folder> <out.png> [message number]`` takes the HTML
exactly as sent (manifest message 0: the first leadership email), points each ``cid:`` image at its PNG
in the folder, and screenshots it with headless Chromium at 420 px wide.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from reaccreditation.packs import manifest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def local_html(folder: Path, index: int = 0) -> Path:
    """The sent HTML with cid: images replaced by file paths, written beside it as screenshot.html."""
    message = manifest.read(folder)["messages"][index]
    html = (folder / message["html"]).read_text(encoding="utf-8")
    for image in message["images"]:
        html = html.replace(f"cid:{image['cid']}", image["path"])
    if "cid:" in html:
        raise ValueError(f"{folder / message['html']}: an image is referenced by cid but not listed in {manifest.NAME}")
    out = folder / "screenshot.html"
    out.write_text(html, encoding="utf-8")
    return out


def screenshot(folder: Path, png: Path, index: int = 0, width: int = 420, height: int = 2400) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    page = local_html(folder, index)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png.resolve()}",
                f"--window-size={width},{height}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return png


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    print(screenshot(Path(args[0]), Path(args[1]), int(args[2]) if len(args) == 3 else 0))
