"""Who may answer a sign-off, what they decided, and the audit record kept beside the item.

Nothing important goes out unseen. A DAG pauses on a human-in-the-loop task assigned to the quality team
members named in the config (``quality_team.members[].airflow_user``); only they can answer. A request
waits ``approvals.timeout`` (default 3 days); then it resolves to its default, which is never "send":
the item is held and the quality team is emailed (``notices``). Every answer (or lapse) is kept in the
``approval`` table beside the item it approved, and :func:`recent_approvals` serves it to the dashboard.
The HITL operators themselves are ``orchestration.hitl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from reaccreditation.organisation.config import Organisation

APPROVE, REPLAN, REJECT = "Approve", "Re-plan", "Reject"
DECISIONS = {APPROVE: "approved", REPLAN: "replan", REJECT: "rejected"}
LABELS = {
    "approved": "Approved",
    "replan": "Re-plan requested",
    "rejected": "Rejected",
    "timed_out": "No answer in time",
    "entered": "Entered",
}


# --- Who answers ----------------------------------------------------------------------------------------


def approvers(org: Organisation) -> list[dict[str, str]]:
    """The Airflow users allowed to answer (HITL ``assigned_users``): quality team members with a user name."""
    from reaccreditation.organisation.config import ConfigError

    users = [{"id": m.airflow_user, "name": m.name} for m in org.quality_team.members if m.airflow_user]
    if not users:
        raise ConfigError(
            "organisation.yaml: quality_team.members: nobody has an airflow_user, so nobody could approve; "
            "add e.g. 'airflow_user: priya.raman' to the members who sign off (docs/approvals.md)"
        )
    return users


# --- What was decided -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One answer to an approval or entry form, as the HITL task returned it."""

    decision: str  # approved | rejected | replan | timed_out | entered
    option: str | None
    user_id: str | None
    user_name: str | None
    responded_at: datetime | None
    comment: str | None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def go(self) -> bool:
        return self.decision == "approved"

    @property
    def who(self) -> str | None:
        if not self.user_id:
            return None
        return self.user_id if not self.user_name or self.user_name == self.user_id else f"{self.user_name} ({self.user_id})"


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def decision_from(result: Mapping[str, Any] | None, *, entry: bool = False) -> Decision:
    """Read the HITL task's XCom. No user means the scheduler applied the default after the timeout."""
    result = result or {}
    chosen = list(result.get("chosen_options") or [])
    params = dict(result.get("params_input") or {})
    user = result.get("responded_by_user") or None
    option = chosen[0] if chosen else None
    comment = str(params.get("comment") or "").strip() or None
    if user is None:
        decision = "timed_out"
    elif entry:
        decision = "entered"
    else:
        decision = DECISIONS.get(option or "", "rejected")
    return Decision(
        decision=decision,
        option=option,
        user_id=str(user["id"]) if user else None,
        user_name=str(user.get("name") or "") if user else None,
        responded_at=_when(result.get("responded_at")),
        comment=comment,
        params=params,
    )


def record(
    engine: Engine,
    d: Decision,
    *,
    assessment_year: int,
    item_kind: str,
    item_ref: str,
    subject: str,
    dag_id: str,
    run_id: str,
    task_id: str,
) -> None:
    """Keep the answer beside the item (one row per approval task and run; a rerun updates it)."""
    from sqlalchemy import insert, select, update

    from reaccreditation.db.schema import approval
    from reaccreditation.mail.compose import one_line

    values = {
        "assessment_year": assessment_year,
        "item_kind": item_kind,
        "item_ref": item_ref,
        "subject": one_line(subject, 500),
        "decision": d.decision,
        "chosen_option": d.option,
        "responded_by": d.user_id,
        "responded_by_name": d.user_name,
        "responded_at": d.responded_at,
        "comment": d.comment,
        "params": d.params,
        "recorded_at": datetime.now(UTC),
    }
    key = (approval.c.dag_id == dag_id, approval.c.run_id == run_id, approval.c.task_id == task_id)
    with engine.begin() as conn:
        if conn.execute(select(approval.c.id).where(*key)).first():
            conn.execute(update(approval).where(*key).values(**values))
        else:
            conn.execute(insert(approval).values(**values, dag_id=dag_id, run_id=run_id, task_id=task_id))


def recent_approvals(
    engine: Engine, limit: int = 20, assessment_year: int | None = None, item_kind: str | None = None
) -> list[dict[str, Any]]:
    """Newest sign-offs first, for the dashboard: item, decision, who, when, comment."""
    from sqlalchemy import select

    from reaccreditation.db.schema import approval

    query = select(approval).order_by(approval.c.recorded_at.desc(), approval.c.id.desc()).limit(limit)
    if assessment_year is not None:
        query = query.where(approval.c.assessment_year == assessment_year)
    if item_kind is not None:
        query = query.where(approval.c.item_kind == item_kind)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["decision_label"] = LABELS.get(r["decision"], r["decision"])
    return rows
