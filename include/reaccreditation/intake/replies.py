"""The email each returned file gets, built from its committed submission record.

Replies are built from the database, not from the sweep's memory, so a retried reply task sends
exactly what was decided. The department's evidence contacts get the outcome (with the annotated
workbook when rows were rejected); a file nobody can be identified as sending goes to the quality team.
Dedupe keys carry the file's SHA-256 (and the receipt for a re-sent copy), so no file is answered twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import intake_receipt, outbound_message, submission
from reaccreditation.mail.compose import Attachment, Draft, address, build_message, sender
from reaccreditation.organisation.config import Organisation
from reaccreditation.render import local_time, long_date, render

ISSUES_IN_EMAIL = 40
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Reply:
    message: Any  # EmailMessage
    dedupe_key: str
    kind: str
    department_id: str | None
    assessment_year: int
    attachment: str | None


def _headline(sub: dict[str, Any], status: str, dept_name: str | None) -> str:
    if status == "duplicate":
        return (
            f"Already received: {sub['original_name']} was processed on {long_date(sub['received_at'])} ({sub['status']}); "
            "nothing was processed twice"
        )
    return sub["message"] or status


def reply_key(department_ids: set[str], sub: dict[str, Any], status: str, receipt_id: int | None) -> str:
    """The outbox dedupe key of the reply to one receipt (what :func:`build_reply` uses).

    A held version's reply has its own key, so the reply once it is confirmed is owed (and sent) again."""
    suffix = f":receipt:{receipt_id}" if status == "duplicate" else ":held" if status == "held" else ""
    to_quality = (sub.get("department_id") or "") not in department_ids
    return f"intake:{sub['sha256']}{suffix}{':quality' if to_quality else ''}"


def _refused(sub: dict[str, Any]) -> dict[str, Any] | None:
    """A file its sender may not send (another department's): the quality team is told as well."""
    return (sub.get("details") or {}).get("refused_claim")


def _held(sub: dict[str, Any], status: str) -> dict[str, Any] | None:
    """A version waiting for the quality team's confirmation: they are told as well."""
    return (sub.get("details") or {}).get("held") if status == "held" else None


def change_lines(changes: dict[str, Any] | None) -> tuple[str, list[str]]:
    """(whose versions it replaces, one line per element) of a version's change summary."""
    from reaccreditation.render import long_date

    if not changes:
        return "", []
    replacing = "; ".join(
        f"version {v['version']} sent by {v['submitter']} ({long_date(datetime.fromisoformat(v['received']))})"
        for v in changes.get("replacing", [])
    )
    lines = []
    for e in changes.get("elements", []):
        if not e["before"]:
            line = f"element {e['element']}: {e['after']} item(s) added (it had none)"
        else:
            line = f"element {e['element']}: its {e['before']} current item(s) replaced by {e['after']}"
            if e["added"]:
                line += "; new: " + ", ".join(f"'{t}'" for t in e["added"])
            if e["removed"]:
                line += "; no longer listed: " + ", ".join(f"'{t}'" for t in e["removed"])
        lines.append(line)
    return replacing or "nothing current", lines


def quality_key(sub: dict[str, Any], status: str) -> str:
    """The key of the quality team's notice beside a department's reply (a refused or a held file)."""
    return reply_key(set(), sub, status, None)


def _quality_too(sub: dict[str, Any], department_ids: set[str]) -> bool:
    """The department is answered and the quality team told as well: a refused claim, or our own fault on a file
    whose department we know (the department hears that we will come back to it, the quality team the error)."""
    internal = (sub.get("details") or {}).get("internal_error") and (sub.get("department_id") or "") in department_ids
    return bool(_refused(sub) or internal)


def owed_replies(engine: Engine, org: Organisation) -> list[dict[str, Any]]:
    """Receipts of inbox files whose reply was never claimed in the outbox.

    A sweep that committed some files and then failed (database or mail outage, a killed worker) has no
    reply task run for it; the next run finds those files here, so every file is answered exactly once.
    """
    ids = {d.id for d in org.departments}
    with engine.connect() as conn:
        claimed = set(
            conn.execute(select(outbound_message.c.dedupe_key).where(outbound_message.c.dedupe_key.like("intake:%"))).scalars()
        )
        rows = conn.execute(
            select(
                intake_receipt.c.id.label("receipt_id"),
                intake_receipt.c.outcome,
                intake_receipt.c.original_name.label("name"),
                submission,
            )
            .join(submission, intake_receipt.c.submission_id == submission.c.id)
            .where(submission.c.source.in_(("inbox", "imap")))  # imap: a workbook that came by email, swept from the inbox
            .order_by(intake_receipt.c.id)
        ).all()
    owed = []
    for row in rows:
        sub = dict(row._mapping)
        status = "duplicate" if sub["outcome"] == "duplicate" else sub["status"]
        notify = _quality_too(sub, ids) or _held(sub, status)
        keys = {reply_key(ids, sub, status, sub["receipt_id"])} | ({quality_key(sub, status)} if notify else set())
        if not keys <= claimed:
            owed.append({"submission_id": sub["id"], "receipt_id": sub["receipt_id"], "status": status, "name": sub["name"]})
    return owed


def send_replies(
    engine: Engine,
    org: Organisation,
    transport: Callable[[Any], None],
    items: Sequence[dict[str, Any]],
    *,
    run_id: str | None = None,
    thread: Callable[[dict[str, Any], dict[str, Any], Reply], Reply] | None = None,
) -> int:
    """Answer this sweep's files and any owed from earlier runs; each at most once (outbox claim).

    ``thread`` may readdress a reply (a file that came by email is answered in the sender's thread).
    """
    from reaccreditation.intake.store import submissions
    from reaccreditation.mail.outbox import send_once

    todo = {(i["submission_id"], i["receipt_id"]): i for i in [*items, *owed_replies(engine, org)] if i.get("submission_id")}
    records = {s["id"]: s for s in submissions(engine, sorted({sid for sid, _ in todo}))}
    sent = 0
    for (sid, _), item in todo.items():
        sub = records.get(sid)
        if sub is None:
            continue
        reply = build_reply(org, sub, status=item["status"], receipt_id=item["receipt_id"], file_name=item["name"])
        if thread is not None:
            reply = thread(item, sub, reply)
        replies = [reply]
        if (_quality_too(sub, {d.id for d in org.departments}) and item["status"] != "duplicate") or _held(sub, item["status"]):
            told = sub["department_id"] if (sub.get("details") or {}).get("internal_error") else None
            replies.append(build_reply(org, sub | {"department_id": None, "told": told}, status=item["status"], receipt_id=None))
        for one in replies:
            sent += send_once(
                engine,
                transport,
                one.message,
                dedupe_key=one.dedupe_key,
                assessment_year=one.assessment_year,
                kind=one.kind,
                department_id=one.department_id,
                attachment=one.attachment,
                run_id=run_id,
            )
    return sent


def build_reply(
    org: Organisation, sub: dict[str, Any], *, status: str, receipt_id: int | None, file_name: str | None = None
) -> Reply:
    """The reply to one file; ``status`` is the sweep outcome (``duplicate`` for a re-sent copy)."""
    departments = {d.id: d for d in org.departments}
    dept = departments.get(sub["department_id"] or "")
    year = sub["assessment_year"] or org.assessment.year
    details = sub.get("details") or {}
    issues = details.get("issues", [])
    quality = org.quality_team.members[0]
    ctx = {
        "status": status,
        "headline": _headline(sub, status, dept.name if dept else None),
        "file_name": file_name or sub["original_name"],
        "sha_short": sub["sha256"][:12],
        "reference": sub.get("request_reference") or "-",
        "received": local_time(sub["received_at"]),
        "year": year,
        "issues": issues[:ISSUES_IN_EMAIL] if status != "duplicate" else [],
        "issue_count": details.get("issue_count", len(issues)),
        "more": max(0, details.get("issue_count", len(issues)) - ISSUES_IN_EMAIL) if status != "duplicate" else 0,
        "notes": details.get("notes", []) if status != "duplicate" else [],
        "missing": details.get("elements_without_evidence", []) if status in ("accepted", "partial") else [],
        "contact": f"{quality.name}, {quality.email}",
        "quarantine": sub.get("quarantine_path") or "-",
        "internal": details.get("internal_error"),
        "refused": _refused(sub),
        "reader_error": details.get("reader_error") if dept is None else None,
        "told": departments[sub["told"]].name if sub.get("told") in departments else None,  # also answered
        "tried": details.get("tried", []),
        "held": details.get("held") if status == "held" else None,
        "confirmed": (details.get("held") or {}).get("confirmed_by") if status != "held" else None,
        "submission_id": sub["id"],
    }
    ctx["replacing"], ctx["changes"] = change_lines(details.get("changes") if status in ("accepted", "partial", "held") else None)
    ctx["changes_by"] = (details.get("changes") or {}).get("by") or sub.get("submitter") or "-"
    short = org.organisation.short_name
    key = reply_key(set(departments), sub, status, receipt_id)
    if dept is None:
        what = "new version held for your confirmation" if ctx["held"] else "evidence return needs the quality team"
        draft = Draft(
            to=[address(m.name, m.email) for m in org.quality_team.members],
            subject=f"{short}: {what}: {ctx['file_name']}",
            text=render("intake_quality.txt", r=ctx),
            html=render("intake_quality.html", r=ctx),
            sender=sender(org),
        )
        return Reply(build_message(draft), key, "intake_quarantine", None, year, None)
    ctx["greeting"] = f"Dear {dept.name} evidence contact{'s' if len(dept.evidence_contacts) > 1 else ''},"
    verdict = {
        "accepted": "accepted",
        "partial": "some rows need correcting",
        "rejected": "not accepted",
        "quarantined": "not accepted",
        "duplicate": "already received",
        "held": "held for the quality team's confirmation",
    }[status]
    attachments = []
    attachment_path = None
    if status in ("accepted", "partial", "rejected") and sub.get("annotated_path") and Path(sub["annotated_path"]).exists():
        attachment_path = sub["annotated_path"]
        stem = Path(sub["original_name"]).stem
        attachments.append(Attachment(f"{stem}-to-correct.xlsx", Path(attachment_path).read_bytes(), XLSX))
    # A version that replaces evidence (or is held) is the head's business too: nothing changes unseen.
    head = [address(dept.head.name, dept.head.email)] if ctx["changes"] or ctx["held"] else []
    draft = Draft(
        to=[address(c.name, c.email) for c in dept.evidence_contacts],
        cc=[h for h in head if h.addr_spec.lower() not in {c.email.lower() for c in dept.evidence_contacts}],
        subject=f"{short} evidence return {year}, {dept.name}: {verdict}",
        text=render("intake_reply.txt", r=ctx),
        html=render("intake_reply.html", r=ctx),
        sender=sender(org),
        attachments=attachments,
        headers={"X-Reaccreditation-Reference": ctx["reference"]},
    )
    return Reply(build_message(draft), key, f"intake_{status}", dept.id, year, attachment_path)
