"""Who may change a review state: the config's quality-team members who have an Airflow user.

The same people who answer sign-offs (docs/approvals.md): ``quality_team.members[].airflow_user``.
Anyone else, an Airflow admin included, may read the queue but not judge it.
"""

from __future__ import annotations

from reaccreditation.organisation.config import Organisation


def reviewers(org: Organisation) -> dict[str, str]:
    """Airflow user id -> the member's name, in config order."""
    return {m.airflow_user: m.name for m in org.quality_team.members if m.airflow_user}


def reviewer_name(org: Organisation, user_id: str | None) -> str | None:
    """The member's name when ``user_id`` may review; None otherwise."""
    if not user_id:
        return None
    return reviewers(org).get(user_id)
