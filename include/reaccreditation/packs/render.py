"""Render a pack into its folder: HTML and text per message, charts, workbooks and a manifest.

``output/<year>/packs/<pack date>/`` then holds exactly what will be sent (the approver's and the
quality team's record): ``manifest.json`` lists each message (recipients, subject, dedupe key, body
files, inline images, attachment); the send step builds the emails from these files only. Each HTML
body also has a ``*.preview.html`` twin whose images point at the PNG files, for a browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reaccreditation.files import write_atomic
from reaccreditation.organisation.config import Organisation
from reaccreditation.packs import charts, manifest
from reaccreditation.packs.gather import department_pack, gather, headline, nice_date
from reaccreditation.packs.schedule import PackDate
from reaccreditation.packs.sources import Sources
from reaccreditation.packs.workbook import readiness_workbook
from reaccreditation.render import render


def dedupe_key(year: int, pack_date: str, email: str, department_id: str | None = None) -> str:
    return f"pack:{year}:{pack_date}:" + (f"{department_id}:" if department_id else "") + email.lower()


def planned_keys(org: Organisation, pack_date: str) -> set[str]:
    """Every message a pack of this date sends: used to tell whether it has gone already."""
    year = org.assessment.year
    return {dedupe_key(year, pack_date, p.email) for p in leadership(org)} | {
        dedupe_key(year, pack_date, d.head.email, d.id) for d in org.departments
    }


def leadership(org: Organisation) -> list[Any]:
    """The leadership list; without one, the quality team gets the leadership pack so it is never lost."""
    return list(org.leadership) or list(org.quality_team.members)


def _subject(p: dict[str, Any], who: str | None = None) -> str:
    what = "Closing pack" if p["kind"] == "closing" else f"Readiness pack {p['label'].split()[0]}"
    status = f"[{p['rag_word']}]"
    target = f"{p['framework_short']} {p['assessment_type']} assessment {p['first_day']}"
    return f"{status} {what}: {p['short_name']}{' ' + who if who else ''}, {target}"


def _images(folder: Path, stem: str, pngs: dict[str, bytes | None], cid_domain: str) -> list[dict[str, str]]:
    out = []
    for name, data in pngs.items():
        if data is None:
            continue
        rel = f"charts/{stem}-{name}.png"
        write_atomic(folder / rel, data)
        out.append({"name": name, "cid": f"{stem[:30]}-{name}.{folder.name}@{cid_domain}", "path": rel})
    return out


def signed(value: Any) -> str:
    """+3 / −2 / no change, for the 'since last pack' columns."""
    if value is None:
        return "–"
    if value == 0:
        return "no change"
    return f"+{value:g}" if value > 0 else f"−{abs(value):g}"


def _bodies(folder: Path, stem: str, template: str, ctx: dict[str, Any], images: list[dict[str, str]]) -> dict[str, str]:
    ctx = ctx | {"nice": nice_date, "signed": signed}
    cid = {i["name"]: "cid:" + i["cid"] for i in images}
    local = {i["name"]: i["path"] for i in images}
    write_atomic(folder / f"{stem}.html", render(f"{template}.html", img=cid, **ctx).encode())
    write_atomic(folder / f"{stem}.preview.html", render(f"{template}.html", img=local, **ctx).encode())
    write_atomic(folder / f"{stem}.txt", render(f"{template}.txt", **ctx).encode())
    return {"html": f"{stem}.html", "text": f"{stem}.txt", "preview": f"{stem}.preview.html"}


def render_pack(org: Organisation, src: Sources, pack_date: PackDate, today: Any, output: Path) -> dict[str, Any]:
    """Write the leadership pack and every department's pack; returns the manifest (also on disk)."""
    pack = gather(org, src, pack_date, today)
    year = org.assessment.year
    folder = manifest.folder(output, year, pack["pack_date"])
    domain = org.quality_team.mailbox.partition("@")[2] or "reaccreditation.local"
    messages = []

    pngs = {"readiness": charts.readiness_by_criterion(pack["criteria"]), "trend": charts.trend(pack["trend"], pack["labels"])}
    if pack["closing"]:
        pngs["closing"] = charts.outcome_vs_forecast(pack["closing"])
    images = _images(folder, "leadership", pngs, domain)
    files = _bodies(folder, "leadership", "pack_leadership", {"p": pack}, images)
    workbook = f"{org.organisation.short_name}-readiness-{pack['pack_date']}.xlsx".replace(" ", "-")
    write_atomic(folder / workbook, readiness_workbook(org, pack, src.evidence))
    for person in leadership(org):
        messages.append(
            {
                "key": dedupe_key(year, pack["pack_date"], person.email),
                "to": {"name": person.name, "email": person.email},
                "department_id": None,
                "subject": _subject(pack),
                "images": images,
                "attachment": workbook,
            }
            | files
        )

    for d in org.departments:
        dp = department_pack(org, src, pack, d.id, today)
        stem = f"department-{d.id}"
        dimages = _images(folder, stem, {"readiness": charts.readiness_by_criterion(dp["criteria"])}, domain)
        dfiles = _bodies(folder, stem, "pack_department", {"p": dp}, dimages)
        dworkbook = f"{org.organisation.short_name}-{d.id}-readiness-{pack['pack_date']}.xlsx".replace(" ", "-")
        write_atomic(folder / dworkbook, readiness_workbook(org, dp, src.evidence))
        messages.append(
            {
                "key": dedupe_key(year, pack["pack_date"], d.head.email, d.id),
                "to": {"name": d.head.name, "email": d.head.email},
                "department_id": d.id,
                "subject": _subject(dp, f"– {d.name}"),
                "images": dimages,
                "attachment": dworkbook,
            }
            | dfiles
        )

    data = {
        "schema": manifest.SCHEMA,
        "assessment_year": year,
        "folder": str(folder),
        "headline": headline(pack),
        "reply_to": org.quality_team.mailbox,
        "sender_name": org.sender_name,
        "messages": messages,
    }
    manifest.write(folder, data)
    return data
