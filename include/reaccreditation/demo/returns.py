"""The demo departments' returned evidence workbooks, with deliberate mistakes on record.

``write_returns(org, inbox_folder, seed)`` fills each department's request workbook (as the request
stage writes it) the way a person would: most departments return a clean workbook, a few make the
mistakes intake must catch (stale dates, unknown element ids, a top-rating claim without a
justification, a missing evidence type), some rate themselves Partial, one or two do not return at
all, and one department sends nothing for one element it alone owns (``not_sent``), so the portfolio's
front page has an element with no evidence at all to name. ``planted_returns.json`` records exactly
what was planted, so the tests and the later stages can check what intake and gap analysis report
against it.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from reaccreditation.demo import statement
from reaccreditation.files import write_atomic, write_json
from reaccreditation.organisation.config import Department, Organisation
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.workbook import layout
from reaccreditation.workbook.sheets import set_text

MISTAKES = ("stale_date", "unknown_element", "cplus_without_justification", "missing_type")


def header_columns(ws) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Layout key -> 1-based column of an Evidence sheet, by header text."""
    out = {}
    for cell in ws[1]:
        col = layout.column_for_header(cell.value)
        if col is not None and col.key not in out:
            out[col.key] = cell.column
    return out


def fill(request: bytes, rows: Sequence[dict[str, Any]], mutate: Callable[[Any], None] | None = None) -> bytes:
    """Fill a request workbook's Evidence sheet: the first row of each element, then spare rows."""
    wb = load_workbook(io.BytesIO(request))
    ws = wb[layout.EVIDENCE_SHEET]
    cols = header_columns(ws)
    element_rows: dict[str, list[int]] = {}
    for r in range(2, ws.max_row + 1):
        value = ws.cell(row=r, column=cols["element_id"]).value
        if value:
            element_rows.setdefault(str(value), []).append(r)
    used: set[int] = set()
    spare = max((r for rs in element_rows.values() for r in rs), default=1) + 1
    for values in rows:
        candidates = [r for r in element_rows.get(str(values.get("element_id")), []) if r not in used]
        if candidates:
            r = candidates[0]
        else:
            r = spare
            spare += 1
        used.add(r)
        for key, value in values.items():
            if key in cols and value is not None:
                set_text(ws.cell(row=r, column=cols[key]), value)
    if mutate is not None:
        mutate(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_rows(org: Organisation, dept: Department, rng: random.Random, partial_share: float = 0.15) -> list[dict[str, Any]]:
    """One plausible evidence item per owned element, dated inside the evidence window."""
    start = org.assessment.evidence_window_start
    span = max((min(org.assessment.first_day, start + timedelta(days=240)) - start).days, 1)
    standard = org.standard
    rows = []
    for element_id in dept.elements:
        element = standard.element(element_id)
        typical = element.evidence[0] if element.evidence else element.title
        rating = standard.label("partial") if rng.random() < partial_share else standard.label("meets")
        rows.append(
            {
                "element_id": element_id,
                "evidence_title": f"{typical} ({dept.name})"[: layout.MAX_TITLE],
                "evidence_type": rng.choice(("Document", "Data/report", "Minutes", "Web page")),
                "link": f"https://intranet.example.org/{dept.id}/{element_id.replace('.', '-')}",
                "evidence_date": start + timedelta(days=rng.randrange(5, span)),
                "owner": dept.evidence_contacts[0].name,
                "self_rating": rating,
                "statement": statement(dept.name, element.title),
                "cplus_claim": "No",
            }
        )
    return rows


def write_returns(org: Organisation, inbox_folder: Path, seed: int = 7) -> dict[str, Any]:
    """Write the demo returns into ``inbox_folder``; returns (and writes beside it) what was planted."""
    rng = random.Random(seed)
    inbox_folder = Path(inbox_folder)
    depts = list(org.departments)
    order = depts[:]
    rng.shuffle(order)
    silent = sorted(d.id for d in order[:2])
    mistaken = order[2:6]
    sole = [(d.id, e) for d in depts if d.id not in silent for e in d.elements if [o.id for o in org.owners(e)] == [d.id]]
    # The first returning department's last element it alone owns: the gap the portfolio must name.
    skipped = {sole[0][0]: [e for i, e in sole if i == sole[0][0]][-1]} if sole else {}
    planted: dict[str, Any] = {"seed": seed, "assessment_year": org.assessment.year, "not_returned": silent, "departments": {}}
    start = org.assessment.evidence_window_start
    for dept in depts:
        if dept.id in silent:
            continue
        rows = good_rows(org, dept, rng)
        not_sent = [skipped[dept.id]] if dept.id in skipped else []
        rows = [r for r in rows if r["element_id"] not in not_sent]
        entry: dict[str, Any] = {
            "file": f"{dept.id}-evidence-{org.assessment.year}.xlsx",
            "rows": len(rows),
            "mistakes": [],
            "not_sent": not_sent,
            "partial_self_ratings": sorted(r["element_id"] for r in rows if r["self_rating"] == org.standard.label("partial")),
            "stale": [],
        }
        if dept in mistaken:
            kind = MISTAKES[mistaken.index(dept) % len(MISTAKES)]
            target = rows[len(rows) // 2]
            if kind == "stale_date":
                target["evidence_date"] = start - timedelta(days=400)
                entry["stale"].append(target["element_id"])
            elif kind == "unknown_element":
                extra = dict(rows[0]) | {"element_id": "9.9.9", "evidence_title": "Misfiled evidence"}
                rows.append(extra)
                target = extra
            elif kind == "cplus_without_justification":
                target["self_rating"], target["cplus_claim"] = org.standard.label("exceeds"), "Yes"
            elif kind == "missing_type":
                target["evidence_type"] = None
            entry["mistakes"].append({"kind": kind, "element_id": target["element_id"]})
            entry["rows"] = len(rows)
        entry["documents"] = _documents(
            org, dept, rows, inbox_folder / Path(entry["file"]).stem, random.Random(f"{seed}-{dept.id}")
        )
        request = RequestWorkbook(org, dept).to_bytes()
        write_atomic(inbox_folder / entry["file"], fill(request, rows))
        planted["departments"][dept.id] = entry
    write_json(inbox_folder.parent / "planted_returns.json", planted)
    return planted


def _documents(
    org: Organisation, dept: Department, rows: list[dict[str, Any]], folder: Path, rng: random.Random
) -> dict[str, Any]:
    """Each row names a small real PDF dropped in a folder beside the workbook, except what is planted.

    About one department in three leaves one row with only its intranet link (not checked: no document, no
    working link) and one in four names a PDF it forgets to send; ``rows`` are changed in place.
    """
    from reaccreditation.demo.documents import pdf

    planted: dict[str, Any] = {"sent": [], "missing": [], "link_only": []}
    real = [r for r in rows if r["element_id"] in dept.elements]
    link_only = rng.choice(real)["element_id"] if real and rng.random() < 0.35 else None
    forgotten = rng.choice(real)["element_id"] if real and rng.random() < 0.25 else None
    for row in rows:
        element_id = row["element_id"]
        if element_id == link_only:
            planted["link_only"].append(element_id)
            continue
        title = re.sub(r'[\\/:*?"<>|,;]+', "-", row["evidence_title"].split(" (")[0][:40]).strip(" .-")
        name = f"{element_id.replace('.', '-')} {title}.pdf"
        row["link"] = name
        if element_id == forgotten and element_id not in planted["missing"]:
            planted["missing"].append(element_id)
            continue
        when = row["evidence_date"]
        write_atomic(
            folder / name,
            pdf(row["evidence_title"], f"{org.organisation.name}: {dept.name}", f"Element {element_id}", f"Dated {when}"),
        )
        planted["sent"].append(name)
    return planted


def demo_date(org: Organisation) -> date:
    """A run date when the returns are in: the return deadline."""
    return org.return_deadline


def main() -> None:
    """``python -m reaccreditation.demo.returns [--inbox DIR] [--seed N]``: fill the inbox for the demo."""
    import argparse

    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import config_path, data_paths

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--config", type=Path, default=config_path())
    parser.add_argument("--inbox", type=Path, default=data_paths().inbox)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    org = load_organisation(args.config)
    planted = write_returns(org, args.inbox, args.seed)
    print(f"{len(planted['departments'])} returns written to {args.inbox}; not returned: {', '.join(planted['not_returned'])}")


if __name__ == "__main__":
    main()
