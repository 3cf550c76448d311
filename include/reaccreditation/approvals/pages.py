"""The pages an approver reads in the Airflow UI (Markdown): the timetable, the readiness pack, the outcome form.

Config and spreadsheet text goes through :func:`md`, so a department name cannot inject links, HTML or
formatting into the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def request(*, kind: str, ref: str, item: str, subject: str, body: str) -> dict[str, str]:
    """An approval request as XCom: the page (subject, Markdown body) and what the audit row and emails name.

    ``kind`` and ``ref`` say what the page is about (the audit row's item_kind and item_ref come from the
    stage's ``approval_binding``, computed by the approval task itself); ``item`` is how the "not sent"
    email names what was held.
    """
    return {"approval_kind": kind, "approval_ref": ref, "approval_item": item, "approval_subject": subject, "approval_body": body}


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|~"})


def md(text: Any) -> str:
    """Config or spreadsheet text as literal Markdown (no links, HTML or formatting smuggled in), one line."""
    from reaccreditation.mail.compose import one_line

    return one_line(str(text), 300).translate(_MD_SPECIAL)


def file_link(label: str, path: Path, output: Path | None) -> str:
    """A Markdown link to a generated file, opened through the Reaccreditation plugin (behind Airflow's
    login); without ``output`` (the folder the plugin serves), the path as code."""
    from urllib.parse import quote

    from reaccreditation.dashboard.files import URL_PREFIX

    if output is not None and path.resolve().is_relative_to(output.resolve()):
        return f"[{label}]({URL_PREFIX}{quote(path.resolve().relative_to(output.resolve()).as_posix())})"
    return f"{label} `{path}`"


def _clock(session: Mapping[str, Any]) -> str:
    return f"{session['start']}–{session['end']}"


def _diary_lines(summary: Mapping[str, Any]) -> list[str]:
    """Where people's busy times came from, and every diary that could not be read with what was assumed instead."""
    sources = Counter((summary.get("source_of") or {}).values())
    notes = list(summary.get("diary_notes") or [])
    if not sources and not notes:
        return []
    lines = []
    if sources:
        lines.append(
            f"**Diaries**: {sum(sources.values())} people planned from their own availability ("
            + ", ".join(f"{md(k)} {n}" for k, n in sorted(sources.items(), key=lambda x: (-x[1], x[0])))
            + "); only their busy times are read."
        )
    if notes:
        lines += ["", f"**Diaries that could not be read ({len(notes)})**, and what was assumed instead:", ""]
        lines += [f"- {md(n)}" for n in notes]
    return [*lines, ""]


def timetable_body(
    data: Mapping[str, Any], summary: Mapping[str, Any], *, replan: Sequence[str] = (), output: Path | None = None
) -> str:
    """The approval page for a timetable: days, sessions per day, who is needed, where the files are."""
    folder = Path(summary["folder"])
    sessions = list(data["sessions"])
    days = list(data["days"])
    lines = [
        f"**{md(data['organisation'])}**: {md(data['assessment_type'])} assessment {data['assessment_year']}, "
        f"**{len(days)} days** ({days[0]} to {days[-1]}), **{len(sessions)} sessions**.",
        "",
    ]
    if replan:
        lines += ["Re-planned with: " + "; ".join(md(r) for r in replan) + ".", ""]
    if summary.get("moved") or summary.get("cancelled"):
        titles = {s["key"]: s["title"] for s in sessions}
        moved = [titles.get(k, k) for k in summary.get("moved") or []]
        lines += [
            f"Moved since the last timetable: {len(moved)}"
            + (f" ({'; '.join(md(t) for t in moved[:20])}{' …' if len(moved) > 20 else ''})" if moved else "")
            + f"; cancelled: {len(summary.get('cancelled') or [])}. Only their people get updates.",
            "",
        ]
    lines += _diary_lines(summary)
    lines += ["| Day | Date | Sessions | First | Last | Site visits | Virtual |", "|---|---|---|---|---|---|---|"]
    for n, day in enumerate(days, 1):
        today = sorted((s for s in sessions if s["day"] == n), key=lambda s: s["start"])
        if not today:
            lines.append(f"| {n} | {day} | 0 | | | | |")
            continue
        visits = sum(s["mode"] == "site_visit" for s in today)
        virtual = sum(s["mode"] == "virtual" for s in today)
        lines.append(
            f"| {n} | {day} | {len(today)} | {md(today[0]['title'])} {today[0]['start']} | {md(today[-1]['title'])} "
            f"{today[-1]['end']} | {visits} | {virtual} |"
        )
    people: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for s in sessions:
        for m in s["members"]:
            people.setdefault(m["email"], []).append(s["day"])
            names[m["email"]] = m["name"]
    ordered = sorted(people, key=lambda e: (-len(people[e]), names[e]))
    lines += [
        "",
        f"**Who is needed** ({len(people)} people, sessions and days): "
        + "; ".join(f"{md(names[e])} {len(people[e])} (day {', '.join(map(str, sorted(set(people[e]))))})" for e in ordered)
        + ".",
        "",
        f"**Files**: {file_link('the timetable workbook', folder / 'timetable.xlsx', output)}; day pictures "
        + ", ".join(file_link(f"day {n}", folder / f"timetable-day{n}.png", output) for n in range(1, len(days) + 1))
        + ".",
        "",
        "**Session keys** (for the Re-plan form): "
        + ", ".join(f"`{s['key']}` d{s['day']} {s['start']}" for s in sorted(sessions, key=lambda s: (s["day"], s["start"])))
        + ".",
        "",
        "**Approve** sends the invites. **Re-plan** solves again with the form's constraints and asks again "
        "(lock sessions by key; leave out people by email; leave out days by number; move sessions as `key=day`). "
        "**Reject** sends nothing. If nobody answers in time, nothing is sent and the quality team is emailed.",
    ]
    return "\n".join(lines)


RAG_LABEL = {"green": "🟢 green", "amber": "🟠 amber", "red": "🔴 red", "grey": "⚪ no data"}


def pack_body(
    manifest: Mapping[str, Any], gaps: Sequence[Mapping[str, Any]], *, limit: int = 8, output: Path | None = None
) -> str:
    """The approval page for a readiness pack: readiness, RAG per criterion, top gaps, recipients, files."""
    h = manifest["headline"]
    folder = Path(manifest["folder"])
    overall = h.get("overall") or {}
    lines = [
        f"**{md(h.get('label') or 'Readiness pack')}** for {h['pack_date']} ({md(h.get('kind') or '')}): overall "
        f"**{RAG_LABEL.get(h.get('rag'), md(h.get('rag')))}**"
        + (
            f", {overall.get('ready')} of {overall.get('elements')} elements ready ({overall.get('ready_pct')}%), "
            f"{overall.get('at_risk')} at risk, {overall.get('gaps')} gaps"
            if overall.get("elements")
            else ""
        )
        + ".",
        "",
    ]
    if h.get("missing"):
        lines += ["Missing from this pack: " + "; ".join(md(m) for m in h["missing"]) + ".", ""]
    if h.get("criteria"):
        lines += ["| Criterion | RAG | Ready | At risk | Gaps |", "|---|---|---|---|---|"]
        for key, c in h["criteria"].items():
            lines.append(
                f"| {md(key)} | {RAG_LABEL.get(c.get('rag'), md(c.get('rag')))} | {c.get('ready')} | {c.get('at_risk')} | "
                f"{c.get('gaps')} |"
            )
        lines.append("")
    lines += [f"**Top gaps** ({len(gaps)}):", ""]
    lines += [
        f"- {md(g['element_id'])} {md(g.get('title') or '')}: {md(g.get('forecast') or '')}; {md(g.get('reason') or '')}"
        + (f" ({md(', '.join(g['owners']))})" if g.get("owners") else "")
        for g in list(gaps)[:limit]
    ] or ["- none"]
    if len(gaps) > limit:
        lines.append(f"- … and {len(gaps) - limit} more (see the workbook)")
    messages = list(manifest.get("messages") or [])
    lines += ["", f"**Recipients** ({len(messages)} messages):", ""]
    lines += [
        f"- {md(m['to']['name'])} <{md(m['to']['email'])}>"
        + (f" (department {md(m['department_id'])})" if m.get("department_id") else " (leadership)")
        for m in messages
    ]
    leader = next((m for m in messages if not m.get("department_id")), None)
    lines += ["", "**What will be sent** (open before you answer)", ""]
    if leader:
        lines += [
            "- " + file_link("Preview the leadership email", folder / leader.get("preview", leader["html"]), output),
            "- " + file_link("The leadership workbook (attached)", folder / leader["attachment"], output),
        ]
    department = next((m for m in messages if m.get("department_id")), None)
    if department:
        lines.append(
            "- "
            + file_link(
                f"Preview a department email ({md(department['department_id'])})",
                folder / department.get("preview", department["html"]),
                output,
            )
        )
    lines.append(f"- Folder: `{folder}`")
    lines += [
        "",
        "**Approve** sends every message above once. **Reject** (say why in the comment) sends nothing and records the reason; "
        "if nobody answers in time, nothing is sent and the quality team is emailed.",
    ]
    return "\n".join(lines)
