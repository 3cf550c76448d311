"""Check a snapshot against what the demo planted: did the analysis find every planted problem?

``planted.json`` (written by ``reaccreditation.demo``) may list:

- ``gaps``: ``[{"element_id": "1.1.1", "reason": "no_evidence", "department_id": "housing"}, ...]``
  (``department_id`` optional): the reason code must be on the element (naming that department);
- ``last_year_partials`` / ``last_year_compliance_plus``: element ids the analysis must have matched to
  last year's outcome and flagged as assessor focus.
"""

from __future__ import annotations

from typing import Any

from reaccreditation.gaps.model import Snapshot


def planted_gaps(snapshot: Snapshot, planted: dict[str, Any]) -> dict[str, list[str]]:
    """``{"found": [...], "missing": [...]}``, each entry a readable line such as ``1.1.1 no_evidence (housing)``."""
    found: list[str] = []
    missing: list[str] = []
    known = {e.element_id for e in snapshot.elements}

    def check(ok: bool, line: str) -> None:
        (found if ok else missing).append(line)

    for gap in planted.get("gaps", []):
        element_id, code, department = gap["element_id"], gap["reason"], gap.get("department_id")
        line = f"{element_id} {code}" + (f" ({department})" if department else "")
        if element_id not in known:
            check(False, line + ": element not in the snapshot")
            continue
        reasons = [r for r in snapshot.element(element_id).reasons if r.code == code]
        check(any(department is None or department in r.departments for r in reasons), line)
    for key, rating in (("last_year_partials", "partial"), ("last_year_compliance_plus", "exceeds")):
        for element_id in planted.get(key, []):
            line = f"{element_id} {key.removeprefix('last_year_')} last year in focus"
            e = snapshot.element(element_id) if element_id in known else None
            check(e is not None and e.in_focus and _is(snapshot, e.last_rating, rating), line)
    return {"found": found, "missing": missing}


def _is(snapshot: Snapshot, label: str | None, level: str) -> bool:
    from reaccreditation.standards import load_standard

    return load_standard(snapshot.framework).level_of(label) == level
