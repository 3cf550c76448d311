"""One evidence item as a review round reports it, and the fields a department fills in (shared by the round,
its workbook and the resubmission diff)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reaccreditation.review.store import LABELS

# The register's fields a department fills in, as the workbook and the resubmission diff name them.
FIELDS = {
    "title": "Evidence title",
    "evidence_type": "Evidence type",
    "link": "Link or file name",
    "evidence_date": "Date of evidence",
    "owner": "Evidence owner",
    "self_rating": "Self-rating",
    "statement": "How the element is met",
    "cplus_claim": "Top-rating claim",
    "cplus_justification": "Top-rating justification",
    "notes": "Notes",
}


@dataclass(frozen=True)
class Item:
    """One evidence item as the round reports it: the register row and its review state."""

    evidence_id: int
    element_id: str
    title: str
    state: str
    comment: str | None
    reviewer: str | None
    row: dict[str, Any]
    new: bool = True  # changed since the last round (False: still waiting from an earlier round)

    @property
    def label(self) -> str:
        return LABELS[self.state]
