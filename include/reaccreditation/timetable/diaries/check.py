"""Config checks of ``timetable.people`` that need the whole organisation (for ``problem.check_references``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation


def people_problems(org: Organisation) -> list[str]:
    """A person nobody meets (not a group member nor an assessor), or a typed window off the assessment's days."""
    tt = org.timetable
    if tt is None:
        return []
    known = {m.email for g in tt.groups for m in g.members} | {m.email for m in tt.assessors}
    if org.assessment.assessor is not None:
        known.add(org.assessment.assessor.email)
    dates = org.assessment.dates
    problems = []
    for i, person in enumerate(tt.people):
        if person.email not in known:
            problems.append(
                f"timetable.people[{i}].email: {person.email!r} is not a member of any group nor an assessor "
                "(check the spelling against the groups' members)"
            )
        for j, w in enumerate(person.availability):
            if not (w.day in dates if not isinstance(w.day, int) else 1 <= w.day <= len(dates)):
                problems.append(
                    f"timetable.people[{i}].availability[{j}].day: {w.day} is not a day of the assessment "
                    f"(1..{len(dates)}, {', '.join(str(d) for d in dates)})"
                )
    return problems
