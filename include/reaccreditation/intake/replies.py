"""The email each returned file gets, built from its committed submission record.

Replies are built from the database, not from the sweep's memory, so a retried reply task sends
exactly what was decided. The department's evidence contacts get the outcome (with the annotated
workbook when rows were rejected); a file nobody can be identified as sending goes to the quality team.
Dedupe keys carry the file's SHA-256 (and the receipt for a re-sent copy), so no file is answered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reaccreditation.mail import Attachment, Draft, address, build_message
from reaccreditation.organisation import Organisation
from reaccreditation.render import render

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
        return f"Already received: {sub['original_name']} was processed on {sub['received_at']:%d %B %Y} ({sub['status']}); nothing was processed twice"
    return sub["message"] or status


def build_reply(org: Organisation, sub: dict[str, Any], *, status: str, receipt_id: int | None, file_name: str | None = None) -> Reply:
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
        "received": f"{sub['received_at']:%d %B %Y %H:%M} UTC",
        "year": year,
        "issues": issues[:ISSUES_IN_EMAIL] if status != "duplicate" else [],
        "issue_count": details.get("issue_count", len(issues)),
        "more": max(0, details.get("issue_count", len(issues)) - ISSUES_IN_EMAIL) if status != "duplicate" else 0,
        "notes": details.get("notes", []) if status != "duplicate" else [],
        "missing": details.get("elements_without_evidence", []) if status in ("accepted", "partial") else [],
        "contact": f"{quality.name}, {quality.email}",
        "quarantine": sub.get("quarantine_path") or "-",
        "internal": details.get("internal_error"),
    }
    short = org.organisation.short_name
    sha = sub["sha256"]
    suffix = f":receipt:{receipt_id}" if status == "duplicate" else ""
    if dept is None or details.get("internal_error"):
        draft = Draft(
            to=[address(m.name, m.email) for m in org.quality_team.members],
            subject=f"{short}: evidence return needs the quality team: {ctx['file_name']}",
            text=render("intake_quality.txt", r=ctx),
            html=render("intake_quality.html", r=ctx),
        )
        return Reply(build_message(draft), f"intake:{sha}{suffix}:quality", "intake_quarantine", None, year, None)
    ctx["greeting"] = f"Dear {dept.name} evidence contact{'s' if len(dept.evidence_contacts) > 1 else ''},"
    verdict = {
        "accepted": "accepted",
        "partial": "some rows need correcting",
        "rejected": "not accepted",
        "quarantined": "not accepted",
        "duplicate": "already received",
    }[status]
    attachments = []
    attachment_path = None
    if status in ("partial", "rejected") and sub.get("annotated_path") and Path(sub["annotated_path"]).exists():
        attachment_path = sub["annotated_path"]
        stem = Path(sub["original_name"]).stem
        attachments.append(Attachment(f"{stem}-to-correct.xlsx", Path(attachment_path).read_bytes(), XLSX))
    draft = Draft(
        to=[address(c.name, c.email) for c in dept.evidence_contacts],
        subject=f"{short} evidence return {year}, {dept.name}: {verdict}",
        text=render("intake_reply.txt", r=ctx),
        html=render("intake_reply.html", r=ctx),
        reply_to=address(org.organisation.short_name + " quality team", org.quality_team.mailbox),
        attachments=attachments,
        headers={"X-Reaccreditation-Reference": ctx["reference"]},
    )
    return Reply(build_message(draft), f"intake:{sha}{suffix}", f"intake_{status}", dept.id, year, attachment_path)
