"""The evidence_portfolio DAG's steps as plain functions: is it due, build a version, send it once approved.

Due from ``schedule.portfolio_days_before`` (a working day, as the packs' dates) until the assessment's
last day. Each run gathers the register; when what the portfolio would show is what the latest version
already shows (the same fingerprint) and that version was sent, nothing happens. Otherwise a version is
built (or the unsent latest one offered again), the quality lead approves it in the Airflow UI, and the
assessor gets the index and workbook with a signed download link for the whole bundle and, from the
second version on, what changed since the version they last received. Details in docs/portfolio.md.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.approvals.binding import Binding
    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

DAG_ID = "evidence_portfolio"
DOWNLOAD_PATH = "/portfolio/download"  # served by plugins/portfolio_download.py, no Airflow login
log = logging.getLogger(__name__)


def portfolio_date(org: Organisation) -> date:
    return org.due_date(org.schedule.portfolio_days_before)


def due(org: Organisation, today: date) -> dict[str, Any] | None:
    """The portfolio window (the portfolio date to the assessment's last day) or None; the reason is logged."""
    when = portfolio_date(org)
    if today < when:
        log.info("evidence portfolio on %s: not before %s (T-%d)", today, when, org.schedule.portfolio_days_before)
        return None
    if today > org.assessment.last_day:
        log.info("evidence portfolio on %s: the assessment ended on %s", today, org.assessment.last_day)
        return None
    log.info("evidence portfolio on %s: due since %s", today, when)
    return {"today": today.isoformat(), "portfolio_date": when.isoformat()}


def assessors(org: Organisation) -> list[tuple[str, str]]:
    """Who receives the portfolio: the timetable's assessors, else the assessment's assessor."""
    if org.timetable is not None and org.timetable.assessors:
        return [(a.name, a.email) for a in org.timetable.assessors]
    a = org.assessment.assessor
    return [(a.name, a.email)] if a is not None else []


def _last_sent(engine: Engine, year: int, before: int) -> dict[str, Any] | None:
    from reaccreditation.portfolio import store

    sent = store.sent_versions(engine, year)
    earlier = [v for v in store.versions(engine, year) if v["version"] in sent and v["version"] < before]
    return earlier[-1] if earlier else None


def build(org: Organisation, engine: Engine, output: Path, run_id: str, now: datetime | None = None) -> dict[str, Any] | None:
    """Gather and, when there is something new, build and keep a version; its paths and the approval page.

    None (nothing to approve or send) when the latest version shows exactly this and was sent."""
    from reaccreditation.approvals.pages import request
    from reaccreditation.portfolio import bundle, gather, store

    now = now or datetime.now(UTC)
    year = org.assessment.year
    elements = gather.gather(org, engine)
    fp = gather.fingerprint(elements)
    kept = store.versions(engine, year)
    latest = kept[-1] if kept else None
    if latest is not None and latest["fingerprint"] == fp and Path(latest["zip_path"]).exists():
        if latest["version"] in store.sent_versions(engine, year):
            log.info("evidence portfolio: nothing new since version %d, already sent", latest["version"])
            return None
        log.info("evidence portfolio: version %d is unchanged and not sent yet: asking again", latest["version"])
        record = latest
    else:
        number = store.next_number(engine, year)
        titles = {e.id: e.title for e in elements}
        previous = _last_sent(engine, year, number)
        changed = gather.changes(previous["summary"] if previous else None, gather.summary(elements), titles)
        folder = output / str(year) / "portfolio"
        built = bundle.build(org, elements, folder, number, now, changed)
        record = store.record_version(
            engine,
            {
                "assessment_year": year,
                "version": number,
                "fingerprint": fp,
                "manifest_sha256": built.manifest_sha256,
                "zip_path": str(built.zip_path),
                "zip_sha256": built.zip_sha256,
                "size": built.size,
                "summary": gather.summary(elements)
                | {"_changes": changed, "_dropped": built.dropped, "_left_out": gather.left_out(elements)},
                "gaps": built.gaps,
                "run_id": run_id,
            },
        )
        log.info(
            "evidence portfolio: version %d built, %d gap(s), %d file(s), %d bytes; left out by the review: %s",
            number,
            len(built.gaps),
            len(built.files) + 1,
            built.size,
            left_out_text(gather.left_out(elements)) or "nothing",
        )
    page = _describe(org, engine, record, output)
    return page | request(
        kind="evidence_portfolio",
        ref=page["zip"],
        item="evidence portfolio",
        subject=f"Evidence portfolio {year} version {record['version']}: {page['covered']} of {page['total']} elements evidenced",
        body=_approval_body(org, page, output),
    )


def _describe(org: Organisation, engine: Engine, record: dict[str, Any], output: Path) -> dict[str, Any]:
    zip_path = Path(record["zip_path"])
    folder = zip_path.with_suffix("")
    summary = record["summary"]
    elements = {k: v for k, v in summary.items() if not k.startswith("_")}
    previous = _last_sent(engine, record["assessment_year"], record["version"])
    return {
        "assessment_year": record["assessment_year"],
        "version": record["version"],
        "previous": previous["version"] if previous else None,
        "zip": str(zip_path),
        "folder": str(folder),
        "index": str(folder / "index.html"),
        "workbook": str(folder / "portfolio.xlsx"),
        "size": record["size"],
        "gaps": record["gaps"],
        "changes": summary.get("_changes", []),
        "left_out": summary.get("_left_out", {}),
        "include": org.portfolio.include,
        "covered": sum(1 for v in elements.values() if v["covered"]),
        "total": len(elements),
        "recipients": [{"name": n, "email": e} for n, e in assessors(org)],
    }


# Why an item in each review state is not in the portfolio (docs/review.md).
LEFT_OUT_WHY = {
    "needs_work": "sent back to the department (needs work)",
    "not_relevant": "marked not relevant to its element",
    "unreviewed": "not reviewed yet (portfolio.include is 'accepted')",
}


def left_out_text(counts: dict[str, int]) -> str:
    """'3 item(s) left out: 2 sent back to the department (needs work), 1 marked not relevant ...'; '' for none."""
    total = sum(counts.values())
    if not total:
        return ""
    parts = [f"{n} {LEFT_OUT_WHY.get(state, state)}" for state, n in counts.items()]
    return f"{total} evidence item(s) left out: " + ", ".join(parts)


def _approval_body(org: Organisation, page: dict[str, Any], output: Path) -> str:
    from reaccreditation.approvals.pages import file_link, md

    lines = [
        f"**{md(org.organisation.name)}**: evidence portfolio {page['assessment_year']}, **version {page['version']}**, "
        f"{page['covered']} of {page['total']} elements evidenced, {len(page['gaps'])} without evidence.",
        "",
        "On approval it goes to: "
        + (", ".join(f"{md(r['name'])} ({md(r['email'])})" for r in page["recipients"]) or "**nobody: no assessor configured**")
        + " with the index and workbook attached and a download link for the whole bundle.",
        "",
        (
            "Included: "
            + ("accepted items only" if page["include"] == "accepted" else "accepted items and items not reviewed yet")
            + " (`portfolio.include`). "
            + (left_out_text(page["left_out"]) + "." if page["left_out"] else "No evidence item was left out.")
        ),
        "",
        "Check before approving: "
        + file_link("index.html", Path(page["index"]), output)
        + ", "
        + file_link("portfolio.xlsx", Path(page["workbook"]), output)
        + ".",
        "",
    ]
    if page["changes"]:
        lines += [f"What changed since version {page['previous']}:", ""] + [f"- {md(c)}" for c in page["changes"][:30]] + [""]
    if page["gaps"]:
        lines += ["| Element | Why | Owner |", "|---|---|---|"]
        lines += [f"| {md(g['id'])} {md(g['title'])} | {md(g['reason'])} | {md(g['owners'])} |" for g in page["gaps"][:40]]
        if len(page["gaps"]) > 40:
            lines.append(f"| … and {len(page['gaps']) - 40} more | | |")
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def download_link(signing_key: bytes, base_url: str, grant: Any) -> str:
    """The assessor's personal link for ``grant`` (a ``token.Grant``)."""
    from urllib.parse import quote

    from reaccreditation.portfolio import token

    return base_url.rstrip("/") + DOWNLOAD_PATH + "?token=" + quote(token.issue(signing_key, grant))


def assessor_message(
    org: Organisation, built: dict[str, Any], name: str, email: str, link: str, expires: datetime, *, reissued: bool = False
) -> Any:
    """The assessor's email for one version: index and workbook attached, the download link in the text.

    ``reissued``: a fresh link replacing one the quality team withdrew (the subject and the text say so)."""
    from reaccreditation.mail.compose import Attachment, Draft, address, build_message, sender
    from reaccreditation.portfolio import store
    from reaccreditation.render import local_time, render

    year, version = built["assessment_year"], built["version"]
    folder = Path(built["folder"])
    attachments = [
        Attachment("index.html", (folder / "index.html").read_bytes(), "text/html"),
        Attachment(
            "portfolio.xlsx",
            (folder / "portfolio.xlsx").read_bytes(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ]
    context = {
        "organisation": org.organisation.name,
        "framework": org.standard.name,
        "assessment_type": org.assessment.type,
        "first_day": org.assessment.first_day,
        "year": year,
        "version": version,
        "previous": built["previous"],
        "changes": built["changes"] if built["previous"] else [],
        "covered": built["covered"],
        "total": built["total"],
        "gaps": len(built["gaps"]),
        "size": _size(built["size"]),
        "link": link,
        "expires": local_time(expires),
        "name": name,
        "mailbox": org.quality_team.mailbox,
        "reissued": reissued,
    }
    subject = f"{org.organisation.short_name}: evidence portfolio {year}, version {version}" + (
        " (a new link)" if reissued else " (changed)" if built["previous"] else ""
    )
    return build_message(
        Draft(
            to=[address(name, email)],
            subject=subject,
            text=render("portfolio_assessor.txt", **context),
            html=render("portfolio_assessor.html", **context),
            sender=sender(org),
            attachments=attachments,
            headers={"X-Reaccreditation-Kind": store.MESSAGE_KIND},
        )
    )


def send(
    org: Organisation,
    engine: Engine,
    transport: Transport,
    built: dict[str, Any],
    *,
    signing_key: bytes,
    base_url: str,
    run_id: str | None = None,
) -> dict[str, int]:
    """Mail the approved version to each assessor once: index and workbook attached, a signed download link."""
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.portfolio import store, token

    year, version = built["assessment_year"], built["version"]
    expires = token.expiry(org.assessment.last_day, org.portfolio.download_days_after)
    sent = skipped = 0
    for name, email in assessors(org):
        issued = store.issue_time(engine, year, version, email, datetime.now(UTC))
        link = download_link(signing_key, base_url, token.Grant(year, version, email, int(expires.timestamp()), issued))
        msg = assessor_message(org, built, name, email, link, expires)
        if send_once(
            engine,
            transport,
            msg,
            dedupe_key=store.dedupe_key(year, version, email),
            assessment_year=year,
            kind=store.MESSAGE_KIND,
            attachment=built["zip"],
            run_id=run_id,
        ):
            sent += 1
        else:
            skipped += 1
    log.info("evidence portfolio version %d: %d sent, %d already sent", version, sent, skipped)
    return {"sent": sent, "already_sent": skipped, "version": version}


# What send() takes from its input and puts in the email (besides the files and the assessors).
_SENT_FIELDS = ("assessment_year", "version", "previous", "changes", "covered", "total", "gaps", "size", "folder", "zip")


def content_digest(org: Organisation, built: dict[str, Any]) -> str:
    """SHA-256 of what :func:`send` would mail from ``built``: its fields that reach the email, the assessors,
    the attached index and workbook, and the zip the download link serves."""
    from reaccreditation.approvals.binding import digest_of, file_digests

    folder, bundle = Path(built["folder"]), Path(built["zip"])
    return digest_of(
        {
            "schema": "reaccreditation.portfolio.approval/1",
            "fields": {k: built.get(k) for k in _SENT_FIELDS},
            "assessors": assessors(org),
            "files": file_digests(folder, ["index.html", "portfolio.xlsx"]) | file_digests(bundle.parent, [bundle.name]),
        }
    )


def approval_binding(org: Organisation, engine: Engine, output: Path, page: dict[str, Any]) -> Binding:
    """What the portfolio's approval is bound to: the version's bundle (under this year's portfolio folder)."""
    from reaccreditation.approvals.binding import Binding

    home = (Path(output) / str(org.assessment.year) / "portfolio").resolve()
    for key in ("folder", "zip"):
        if not Path(page[key]).resolve().is_relative_to(home):
            raise ValueError(f"the portfolio to approve, {page[key]}, is not under {home}: nothing can be approved or sent")
    return Binding(org.assessment.year, "evidence_portfolio", str(page["zip"]), content_digest(org, page))


def send_approved(
    org: Organisation,
    engine: Engine,
    transport: Transport,
    built: dict[str, Any],
    *,
    signing_key: bytes,
    base_url: str,
    run_id: str,
    approval_task: str = "approve_portfolio",
) -> dict[str, int]:
    """Send only what this run's approval task (as recorded in the project database) approved: the same
    digest now, else :class:`NotApproved` and nothing is sent."""
    from reaccreditation.approvals.decisions import require_approved

    digest = content_digest(org, built)
    require_approved(engine, dag_id=DAG_ID, run_id=run_id, task_id=approval_task, item="evidence portfolio", digest=digest)
    return send(org, engine, transport, built, signing_key=signing_key, base_url=base_url, run_id=run_id)
