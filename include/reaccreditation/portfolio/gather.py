"""What the portfolio shows, from the register: each element's evidence items with their document or checked link.

An item's proof is its newest kept document (the row's "Link or file name" names it, see
``documents.matching``) or a link the link check found working. An element is **covered** when at least one
current evidence item for it has a proof; every other element of the standard is a gap on the front page,
with the departments that own it and their first evidence contact (or the quality team when nobody owns it).
A document the safety check refused is never a proof and never shipped: the item names it as refused.

Only items the quality team's review lets in are shown (``portfolio.include``, docs/review.md): accepted ones,
or accepted and not yet reviewed ones; an item sent back (needs work) or marked not relevant never goes in.
Each element keeps what was left out and why (:func:`left_out`), for the sign-off page; each item says who
reviewed it and when.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import assessment_outcome, evidence, evidence_document
from reaccreditation.documents import store as documents
from reaccreditation.documents.matching import fold, links, named_files
from reaccreditation.links import store as link_store
from reaccreditation.organisation.config import Organisation
from reaccreditation.render import local_time
from reaccreditation.review import store as review

DOCUMENT_KEYS = ("filename", "sha256", "stored_path", "version", "size", "message_key", "received_at", "content_type")


@dataclass
class Item:
    department_id: str
    department: str
    title: str
    evidence_type: str
    evidence_date: str | None
    owner: str | None
    self_rating: str | None
    cplus_claim: bool
    cplus_justification: str | None
    notes: str | None
    link_text: str | None
    statement: str | None = None  # how the element is met, when the workbook layout has the column
    review_state: str = review.UNREVIEWED  # the quality team's judgement (review.store)
    reviewed_by: str | None = None  # the reviewer's name as the config gives it
    reviewed_when: str | None = None  # when, as the organisation reads it ('1 December 2026, 09:00 GMT')
    documents: list[dict[str, Any]] = field(default_factory=list)  # DOCUMENT_KEYS (+ href once arranged)
    links: list[dict[str, Any]] = field(default_factory=list)  # url, status, detail
    missing: list[str] = field(default_factory=list)  # file names named but never received
    refused: list[str] = field(default_factory=list)  # file names received but refused by the safety check

    @property
    def proven(self) -> bool:
        return bool(self.documents) or any(link["status"] == "working" for link in self.links)

    @property
    def review_text(self) -> str:
        """Who judged it, in words: 'Accepted by Priya Raman, 1 December 2026, 09:00 GMT' or 'Not reviewed yet'."""
        if self.review_state == review.UNREVIEWED or not self.reviewed_by:
            return "Not reviewed yet by the quality team"
        return f"{review.LABELS[self.review_state]} by {self.reviewed_by}, {self.reviewed_when}"


@dataclass
class ElementView:
    id: str
    title: str
    criterion_id: str
    sub_criterion_id: str
    owners: list[str]
    owner_contact: str
    items: list[Item]
    last_rating: str | None = None
    last_action: str | None = None
    owed: list[dict[str, str]] = field(default_factory=list)  # owning departments with no proven item, and why
    left_out: list[dict[str, str]] = field(default_factory=list)  # items the review keeps out: department_id, title, state

    @property
    def covered(self) -> bool:
        return any(i.proven for i in self.items)

    @property
    def statements(self) -> list[str]:
        return list(dict.fromkeys(s.strip() for i in self.items if (s := i.statement) and s.strip()))

    @property
    def cplus_items(self) -> list[Item]:
        return [i for i in self.items if i.cplus_claim]

    @property
    def gap_reason(self) -> str:
        return reason(self.items, self.left_out)


def reason(items: list[Item], left_out: list[dict[str, str]] | None = None) -> str:
    """Why these items prove nothing, in words."""
    if not items and left_out:
        return "no evidence item accepted by the quality team yet"
    if not items:
        return "no accepted evidence item"
    if any(i.refused for i in items):
        return "a named document was refused by the safety check"
    if any(i.missing for i in items):
        return "a named document was not received"
    return "no document and no working link"


def included(state: str, include: str) -> bool:
    """Does an item in this review state go in under ``portfolio.include``?"""
    return state == review.ACCEPTED or (state == review.UNREVIEWED and include == "accepted_and_unreviewed")


def gather(org: Organisation, engine: Engine) -> list[ElementView]:
    """Every element of the standard with this year's current evidence items the review lets in, in the standard's order."""
    year = org.assessment.year
    reviewed = review.states(engine, year)
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(evidence)
                .where(evidence.c.assessment_year == year, evidence.c.is_current.is_(True))
                .order_by(evidence.c.element_id, evidence.c.department_id, evidence.c.row_number, evidence.c.id)
            )
        ]
        last = {
            r.element_id: r
            for r in conn.execute(
                select(assessment_outcome)
                .where(assessment_outcome.c.assessment_year < year, assessment_outcome.c.framework == org.framework)
                .order_by(assessment_outcome.c.assessment_year)
            )
        }
        refused = {
            (r.department_id, r.match_name)
            for r in conn.execute(
                select(evidence_document.c.department_id, evidence_document.c.match_name).where(
                    evidence_document.c.assessment_year == year, evidence_document.c.status == "refused"
                )
            )
        }
    kept = documents.kept(engine, year)
    checked = link_store.results(engine, [u for r in rows for u in links(r["link"])])
    names = {d.id: d.name for d in org.departments}
    by_element: dict[str, list[Item]] = {}
    left: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        judged = reviewed.get(r["id"], {})
        state = judged.get("state", review.UNREVIEWED)
        if not included(state, org.portfolio.include):
            out_item = {"department_id": r["department_id"], "title": r["title"], "state": state}
            left.setdefault(r["element_id"], []).append(out_item)
            continue
        when = judged.get("reviewed_at")
        item = Item(
            department_id=r["department_id"],
            department=names.get(r["department_id"], r["department_id"]),
            title=r["title"],
            evidence_type=r["evidence_type"],
            evidence_date=r["evidence_date"].isoformat() if r["evidence_date"] else None,
            owner=r["owner"],
            self_rating=r["self_rating"],
            cplus_claim=bool(r["cplus_claim"]),
            cplus_justification=r["cplus_justification"],
            notes=r["notes"],
            link_text=r["link"],
            statement=r.get("statement"),
            review_state=state,
            reviewed_by=judged.get("reviewer_name") or judged.get("reviewer"),
            reviewed_when=local_time(datetime.fromisoformat(when)) if when else None,
        )
        for name in named_files(r["link"]):
            key = (r["department_id"], fold(name))
            doc = kept.get(key)
            if doc is not None:
                item.documents.append({k: doc.get(k) for k in DOCUMENT_KEYS})
            elif key in refused:
                item.refused.append(name)
            else:
                item.missing.append(name)
        for url in links(r["link"]):
            result = checked.get(url)
            item.links.append(
                {
                    "url": url,
                    "status": result["status"] if result else "not_checked",
                    "detail": result["detail"] if result else "not checked yet",
                }
            )
        by_element.setdefault(r["element_id"], []).append(item)
    quality = org.quality_team.members[0]
    out = []
    for element in org.standard.elements:
        owners = org.owners(element.id)
        contact = owners[0].evidence_contacts[0] if owners and owners[0].evidence_contacts else quality
        outcome = last.get(element.id)
        items = by_element.get(element.id, [])
        owed = []
        left_out = left.get(element.id, [])
        for d in owners:
            mine = [i for i in items if i.department_id == d.id]
            if not any(i.proven for i in mine):
                who = d.evidence_contacts[0]
                why = reason(mine, [x for x in left_out if x["department_id"] == d.id])
                owed.append({"department_id": d.id, "department": d.name, "reason": why, "contact": f"{who.name} <{who.email}>"})
        out.append(
            ElementView(
                id=element.id,
                title=element.title,
                criterion_id=element.criterion_id,
                sub_criterion_id=element.sub_criterion_id,
                owners=[d.name for d in owners] or ["no department (quality team)"],
                owner_contact=f"{contact.name} <{contact.email}>",
                items=items,
                last_rating=outcome.rating if outcome else None,
                last_action=outcome.action if outcome else None,
                owed=owed,
                left_out=left_out,
            )
        )
    return out


def left_out(elements: list[ElementView]) -> dict[str, int]:
    """How many items the review kept out of the portfolio, per state (needs_work, not_relevant, unreviewed)."""
    counts: dict[str, int] = {}
    for e in elements:
        for x in e.left_out:
            counts[x["state"]] = counts.get(x["state"], 0) + 1
    return dict(sorted(counts.items()))


def summary(elements: list[ElementView]) -> dict[str, dict[str, Any]]:
    """Per element what the assessor sees, compactly: what the next version's "what changed" compares."""
    return {
        e.id: {
            "covered": e.covered,
            "documents": sorted({f"{d['filename']} {d['sha256'][:12]}" for i in e.items for d in i.documents}),
            "links": sorted({f"{link['url']} {link['status']}" for i in e.items for link in i.links}),
            "ratings": sorted({i.self_rating for i in e.items if i.self_rating}),
            "cplus": sorted({(i.cplus_justification or "") for i in e.items if i.cplus_claim}),
            "statements": e.statements,
            "items": len(e.items),
            "owed": sorted(o["department_id"] for o in e.owed),
            "reviewed": sorted(f"{i.department_id} {i.title}: {i.review_state}" for i in e.items),
        }
        for e in elements
    }


def fingerprint(elements: list[ElementView]) -> str:
    """SHA-256 over everything the portfolio shows; the same evidence gives the same fingerprint."""
    shown = [
        {
            "id": e.id,
            "owners": e.owners,
            "contact": e.owner_contact,
            "last": [e.last_rating, e.last_action],
            "left_out": sorted((x["department_id"], x["state"]) for x in e.left_out),
            "items": [
                {k: v for k, v in vars(i).items() if k != "documents"}
                | {"documents": [[d["filename"], d["sha256"]] for d in i.documents]}
                for i in e.items
            ],
        }
        for e in elements
    ]
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()


def changes(before: dict[str, dict[str, Any]] | None, now: dict[str, dict[str, Any]], titles: dict[str, str]) -> list[str]:
    """Plain sentences: what is different from the version the assessor last received (empty for the first)."""
    if before is None:
        return []
    out = []
    for element_id, shown in now.items():
        was = before.get(element_id)
        label = f"{element_id} {titles.get(element_id, '')}".strip()
        if was is None:
            continue
        if shown["covered"] and not was["covered"]:
            out.append(f"{label}: now evidenced")
        elif was["covered"] and not shown["covered"]:
            out.append(f"{label}: no longer evidenced")
        added = sorted(set(shown["documents"]) - set(was["documents"]))
        if added:
            out.append(f"{label}: new or replaced document(s) " + ", ".join(a.rsplit(" ", 1)[0] for a in added))
        if shown["links"] != was["links"]:
            out.append(f"{label}: links or their check results changed")
        if shown["ratings"] != was["ratings"]:
            now_rated, was_rated = ", ".join(shown["ratings"]) or "none", ", ".join(was["ratings"]) or "none"
            out.append(f"{label}: self-rating now {now_rated} (was {was_rated})")
        if shown["cplus"] != was["cplus"]:
            out.append(f"{label}: Compliance Plus claim changed")
        if shown["statements"] != was["statements"]:
            out.append(f"{label}: statement changed")
        if "reviewed" in was and shown["reviewed"] != was["reviewed"] and shown["items"] == was["items"]:
            out.append(f"{label}: the quality team's review of its evidence changed")
        if shown["items"] != was["items"] and not added:
            out.append(f"{label}: {shown['items']} evidence item(s) (was {was['items']})")
    return out
