"""Send a rendered pack: each manifest message once (outbox dedupe), then record the headline figures.

Builds the emails from the files in the pack folder only, so what was approved is what goes out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from reaccreditation.mail.compose import Attachment, Draft, InlineImage, address, build_message
from reaccreditation.mail.outbox import Transport, send_once
from reaccreditation.packs import manifest as pack_manifest
from reaccreditation.packs.sources import MESSAGE_KIND

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def draft(folder: Path, message: dict[str, Any], reply_to: str, sender_name: str = "Quality team") -> Draft:
    return Draft(
        to=[address(message["to"]["name"], message["to"]["email"])],
        subject=message["subject"],
        text=(folder / message["text"]).read_text(encoding="utf-8"),
        html=(folder / message["html"]).read_text(encoding="utf-8"),
        sender=address(sender_name, reply_to),
        images=[InlineImage(i["cid"], (folder / i["path"]).read_bytes()) for i in message["images"]],
        attachments=[Attachment(message["attachment"], (folder / message["attachment"]).read_bytes(), XLSX)],
        headers={"X-Reaccreditation-Kind": MESSAGE_KIND},
    )


def send_pack(engine: Engine, transport: Transport, folder: Path, run_id: str | None = None) -> dict[str, int]:
    """Deliver every message of the manifest not sent before; returns counts."""
    manifest = pack_manifest.read(folder)
    sent = skipped = 0
    for m in manifest["messages"]:
        msg = build_message(draft(folder, m, manifest["reply_to"], manifest.get("sender_name", "Quality team")))
        if send_once(
            engine,
            transport,
            msg,
            dedupe_key=m["key"],
            assessment_year=manifest["assessment_year"],
            kind=MESSAGE_KIND,
            department_id=m["department_id"],
            attachment=str(folder / m["attachment"]),
            run_id=run_id,
        ):
            sent += 1
        else:
            skipped += 1
    return {"sent": sent, "already_sent": skipped, "messages": len(manifest["messages"])}
