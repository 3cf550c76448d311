"""Who may answer a sign-off, what they decided, and the audit record kept beside the item.

Nothing important goes out unseen. A DAG pauses on a human-in-the-loop task assigned to the quality team
members named in the config (``quality_team.members[].airflow_user``); only they can answer. A request
waits ``approvals.timeout`` (default 3 days); then it resolves to its default, which is never "send":
the item is held and the quality team is emailed (``notices``). The approval task itself appends every
request (with the SHA-256 of what would be sent) and every answer (or lapse) to the append-only
``approval_decision`` table; the send steps :func:`require_approved` from there, never from XCom, and
:func:`recent_approvals` serves it to the dashboard. The HITL operators themselves are
``orchestration.hitl``.
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


def decision_of(row: Mapping[str, Any] | None) -> Decision:
    """The answer as recorded in the audit (no row: nobody answered, so nothing goes)."""
    if row is None:
        return Decision("timed_out", None, None, None, None, None)
    return Decision(
        decision=row["decision"],
        option=row["chosen_option"],
        user_id=row["responded_by"],
        user_name=row["responded_by_name"],
        responded_at=_when(row["responded_at"]),
        comment=row["comment"],
        params=dict(row["params"] or {}),
    )


def _row(
    d: Decision,
    *,
    assessment_year: int,
    item_kind: str,
    item_ref: str,
    subject: str,
    dag_id: str,
    run_id: str,
    task_id: str,
    digest: str | None = None,
) -> dict[str, Any]:
    from reaccreditation.mail.compose import one_line

    return {
        "assessment_year": assessment_year,
        "item_kind": item_kind,
        "item_ref": item_ref,
        "subject": one_line(subject, 500),
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": task_id,
        "decision": d.decision,
        "digest": digest,
        "chosen_option": d.option,
        "responded_by": d.user_id,
        "responded_by_name": d.user_name,
        "responded_at": d.responded_at,
        "comment": d.comment,
        "params": d.params,
        "recorded_at": datetime.now(UTC),
    }


def record(engine: Engine, d: Decision, **item: Any) -> None:
    """Append the answer to the audit (``approval_decision``; a rerun appends, nothing is ever rewritten).

    ``item``: assessment_year, item_kind, item_ref, subject, dag_id, run_id, task_id and optionally digest.
    """
    from sqlalchemy import insert

    from reaccreditation.db.schema import approval_decision

    with engine.begin() as conn:
        conn.execute(insert(approval_decision).values(**_row(d, **item)))


REQUESTED = Decision("requested", None, None, None, None, None)


def record_request(engine: Engine, *, digest: str, **item: Any) -> None:
    """The approval task opened a request for the item whose content has SHA-256 ``digest``."""
    record(engine, REQUESTED, digest=digest, **item)


def _latest(engine: Engine, dag_id: str, run_id: str, task_id: str, *, requested: bool) -> dict[str, Any] | None:
    from sqlalchemy import select

    from reaccreditation.db.schema import approval_decision as t

    which = t.c.decision == "requested" if requested else t.c.decision != "requested"
    query = (
        select(t)
        .where(t.c.dag_id == dag_id, t.c.run_id == run_id, t.c.task_id == task_id, which)
        .order_by(t.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def record_answer(engine: Engine, d: Decision, *, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    """Append the answer to the latest request of this task and run, with that request's item and digest:
    the approver approved what the request showed, nothing written since."""
    asked = _latest(engine, dag_id, run_id, task_id, requested=True)
    if asked is None:
        raise RuntimeError(f"{dag_id} {run_id} {task_id}: an answer arrived with no recorded request; nothing was approved")
    item = {k: asked[k] for k in ("assessment_year", "item_kind", "item_ref", "subject", "digest")}
    record(engine, d, dag_id=dag_id, run_id=run_id, task_id=task_id, **item)
    return _latest(engine, dag_id, run_id, task_id, requested=False) or {}


def answer_of(engine: Engine, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    """The latest answer the approval task ``task_id`` of this run recorded itself, or None."""
    return _latest(engine, dag_id, run_id, task_id, requested=False)


class NotApproved(Exception):
    """The send step found no approval for exactly what it would send: nothing was sent."""


def require_approved(engine: Engine, *, dag_id: str, run_id: str, task_id: str, item: str, digest: str) -> dict[str, Any]:
    """The approval row for what is about to be sent, or :class:`NotApproved` saying why nothing was sent.

    Only rows the approval task wrote count (never XCom), and only when the SHA-256 it recorded when it
    asked equals ``digest``, the one the send step has just computed from what it would send.
    """
    row = answer_of(engine, dag_id, run_id, task_id)
    if row is None:
        raise NotApproved(
            f"Nothing was sent: the {item} of run {run_id} has no sign-off recorded by its approval task ({task_id}). "
            "Trigger the DAG again so a quality team member can approve it."
        )
    if row["decision"] != "approved":
        raise NotApproved(
            f"Nothing was sent: the {item} of run {run_id} was not approved "
            f"({LABELS.get(row['decision'], row['decision']).lower()}"
            + (f" by {row['responded_by']}" if row["responded_by"] else "")
            + "). Trigger the DAG again to ask again."
        )
    if row["digest"] != digest:
        raise NotApproved(
            f"Nothing was sent: the {item} changed after {row['responded_by']} approved it "
            f"(approved content SHA-256 {str(row['digest'])[:12]}…, now {digest[:12]}…). "
            "Only what was approved may be sent; trigger the DAG again to approve the current version."
        )
    return row


def recent_approvals(
    engine: Engine, limit: int = 20, assessment_year: int | None = None, item_kind: str | None = None
) -> list[dict[str, Any]]:
    """Newest sign-offs first, for the dashboard: item, decision, who, when, comment (requests left out)."""
    from sqlalchemy import select

    from reaccreditation.db.schema import approval_decision as approval

    query = (
        select(approval)
        .where(approval.c.decision != "requested")
        .order_by(approval.c.recorded_at.desc(), approval.c.id.desc())
        .limit(limit)
    )
    if assessment_year is not None:
        query = query.where(approval.c.assessment_year == assessment_year)
    if item_kind is not None:
        query = query.where(approval.c.item_kind == item_kind)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["decision_label"] = LABELS.get(r["decision"], r["decision"])
    return rows
