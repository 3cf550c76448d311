"""What the portfolio shows, from the register: each element's evidence items with their document or checked link.

An item's proof is its newest kept document (the row's "Link or file name" names it, see
``documents.matching``) or a link the link check found working. An element is **covered** when at least one
current evidence item for it has a proof; every other element of the standard is a gap on the front page,
with the departments that own it and their first evidence contact (or the quality team when nobody owns it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import assessment_outcome, evidence
from reaccreditation.documents import store as documents
from reaccreditation.documents.matching import fold, links, named_files
from reaccreditation.links import store as link_store
from reaccreditation.organisation.config import Organisation


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
    documents: list[dict[str, Any]] = field(default_factory=list)  # filename, sha256, stored_path, version
    links: list[dict[str, Any]] = field(default_factory=list)  # url, status, detail
    missing: list[str] = field(default_factory=list)  # file names named but never received

    @property
    def proven(self) -> bool:
        return bool(self.documents) or any(link["status"] == "working" for link in self.links)


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

    @property
    def covered(self) -> bool:
        return any(i.proven for i in self.items)

    @property
    def gap_reason(self) -> str:
        if not self.items:
            return "no accepted evidence item"
        if any(i.missing for i in self.items):
            return "a named document was not received"
        return "no document and no working link"


def gather(org: Organisation, engine: Engine) -> list[ElementView]:
    year = org.assessment.year
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(evidence)
                .where(evidence.c.assessment_year == year, evidence.c.is_current.is_(True))
                .order_by(evidence.c.element_id, evidence.c.department_id, evidence.c.row_number)
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
    kept = documents.kept(engine, year)
    checked = link_store.results(engine, [u for r in rows for u in links(r["link"])])
    names = {d.id: d.name for d in org.departments}
    by_element: dict[str, list[Item]] = {}
    for r in rows:
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
        )
        for name in named_files(r["link"]):
            doc = kept.get((r["department_id"], fold(name)))
            if doc is None:
                item.missing.append(name)
            else:
                item.documents.append(
                    {k: doc[k] for k in ("filename", "sha256", "stored_path", "version", "size", "message_key", "received_at")}
                )
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
        out.append(
            ElementView(
                id=element.id,
                title=element.title,
                criterion_id=element.criterion_id,
                sub_criterion_id=element.sub_criterion_id,
                owners=[d.name for d in owners] or ["no department (quality team)"],
                owner_contact=f"{contact.name} <{contact.email}>",
                items=by_element.get(element.id, []),
                last_rating=outcome.rating if outcome else None,
                last_action=outcome.action if outcome else None,
            )
        )
    return out
