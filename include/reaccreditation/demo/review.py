"""The demo season's review: the demo quality lead judges one department's evidence and sends two items back.

``review_one_department(org, engine)`` is what a reviewer does on the queue page
(``/reaccreditation/review``), through the same store: the first department (in config order) whose
return is in and not yet reviewed has its first two items sent back, each with a reason, and the rest
accepted (an item whose document the safety checks refused stays unreviewed: it cannot be accepted). The
review round DAG then sends that department one email in its thread. Done once: a season already reviewed
is left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from reaccreditation.organisation.config import Organisation
from reaccreditation.review import store
from reaccreditation.review.reviewers import reviewers

REASONS = (
    "This is last year's version: send the one your service uses now, dated inside the evidence window.",
    "It does not show how customers were involved: add the consultation notes, or say in the statement where they are.",
)


def review_one_department(org: Organisation, engine: Engine) -> dict[str, Any]:
    """Send two items of one department back and accept the rest; {} when the season was already reviewed."""
    year = org.assessment.year
    if store.states(engine, year):
        return {}
    who, name = next(iter(reviewers(org).items()))
    items = store.queue(engine, year)
    for dept in org.departments:
        mine = [i for i in items if i["department_id"] == dept.id]
        if len(mine) < 3:
            continue
        accepted = 0
        for n, item in enumerate(mine):
            to, comment = (store.NEEDS_WORK, REASONS[n]) if n < len(REASONS) else (store.ACCEPTED, None)
            if to == store.ACCEPTED and item["cannot_accept"]:
                continue
            store.record(engine, item["evidence_id"], seen_state=item["state"], seen_version=item["version"], to_state=to,
                         comment=comment, reviewer=who, reviewer_name=name)  # fmt: skip
            accepted += to == store.ACCEPTED
        return {
            "reviewer": name,
            "department_id": dept.id,
            "department": dept.name,
            "sent_back": [f"{i['element_id']} {i['title']}" for i in mine[: len(REASONS)]],
            "accepted": accepted,
        }
    return {}
