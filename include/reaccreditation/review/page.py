"""What the review queue page and ``GET /api/review`` show, gathered without Airflow (the plugin adds the user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from reaccreditation.organisation.config import Organisation
from reaccreditation.render import local_time
from reaccreditation.review import csrf, documents, resubmission, store
from reaccreditation.review.reviewers import reviewer_name, reviewers


def gather(org: Organisation, engine: Engine, user_id: str, csrf_key: bytes, department: str | None = None) -> dict[str, Any]:
    """Items (filtered by department), progress per department, who may review, this user's form token."""
    year = org.assessment.year
    items = store.queue(engine, year, department or None)
    for item in items:  # when, as people read it (the organisation's time zone)
        item["reviewed_when"] = local_time(datetime.fromisoformat(item["reviewed_at"])) if item["reviewed_at"] else None
    resubmission.mark(engine, year, items)  # a sent-back item replaced: "Resubmission", with the diff
    progress = store.progress(store.queue(engine, year) if department else items)
    names = {d.id: d.name for d in org.departments}
    empty = dict.fromkeys(store.STATES, 0)
    return {
        "assessment_year": year,
        "department": department or None,
        "departments": [{"id": d, "name": n, "counts": progress.get(d, empty)} for d, n in names.items()],
        "department_names": names,
        "items": items,
        "states": [{"id": k, "label": v} for k, v in store.LABELS.items()],
        "reviewers": reviewers(org),
        "may_review": reviewer_name(org, user_id) is not None,
        "csrf_token": csrf.token(csrf_key, user_id),
        "documents": documents.openable(engine, year, items),  # item id -> kept files it names (opened from the queue)
    }
