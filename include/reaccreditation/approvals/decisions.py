"""Sign-off in the Airflow UI: who may answer, how long a request waits, what was decided, the audit trail.

Nothing important goes out unseen. A DAG pauses on a human-in-the-loop task (Airflow 3.3, providers-standard
``HITLOperator``) assigned to the quality team members named in the config
(``quality_team.members[].airflow_user``); only they can answer. A request waits
``approvals.timeout`` (default 3 days); then it resolves to its default, which is never "send": the item
is held and the quality team is emailed. Every answer (or lapse) is kept in the ``approval`` table beside
the item it approved, and :func:`recent_approvals` serves it to the dashboard.

Airflow is imported inside :func:`operator` only; the rest is plain Python, testable without Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # DAG files import this module at parse time: heavy imports stay inside functions
    from airflow.sdk import BaseOperator
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
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


# --- Telling people -------------------------------------------------------------------------------------


def required_actions_link(base_url: str | None, dag_id: str, run_id: str, task_id: str) -> str | None:
    """The Airflow UI page where the approver answers (the same path the provider's link helper builds)."""
    from urllib.parse import quote

    if not base_url:
        return None
    dag, run, task = (quote(part, safe="") for part in (dag_id, run_id, task_id))
    return f"{base_url.rstrip('/')}/dags/{dag}/runs/{run}/tasks/{task}/required_actions"


def _team(org: Organisation) -> list[Any]:
    from reaccreditation.mail.compose import address

    return [address(m.name, m.email) for m in org.quality_team.members] or [address("Quality team", org.quality_team.mailbox)]


def notify(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    *,
    title: str,
    what: str,
    dedupe_key: str,
    kind: str,
    run: tuple[str, str],
    link: str | None,
    next_step: str,
    d: Decision | None = None,
    stopped: bool = False,
) -> bool:
    """One email to the quality team (sent once per dedupe key): an approval is waiting, or an item was held."""
    from reaccreditation.mail.compose import Draft, build_message, one_line, sender
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.render import local_time, render

    ctx = {
        "title": title,
        "what": what,
        "decision_label": LABELS.get(d.decision, d.decision) if d else "Waiting for an answer",
        "who": d.who if d else None,
        "when": local_time(d.responded_at) if d and d.responded_at else None,
        "comment": d.comment if d else None,
        "dag_id": run[0],
        "run_id": run[1],
        "link": link,
        "link_label": "Open the run in Airflow" if stopped else "Answer in Airflow",
        "next_step": next_step,
        "stopped": stopped,
    }
    draft = Draft(
        to=_team(org),
        subject=one_line(f"{org.organisation.short_name}: {title}"),
        text=render("approval_alert.txt", **ctx),
        html=render("approval_alert.html", **ctx),
        sender=sender(org),
    )
    return send_once(
        engine,
        transport,
        build_message(draft),
        dedupe_key=dedupe_key,
        assessment_year=org.assessment.year,
        kind=kind,
        run_id=run[1],
    )


def held(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    d: Decision,
    *,
    item: str,
    run: tuple[str, str],
    task_id: str,
    link: str | None,
) -> bool:
    """Tell the quality team that an item was not sent (rejected, re-plan refused, or nobody answered)."""
    if d.decision == "timed_out":
        what = f"Nobody approved the {item} within {org.approvals.timeout}, so it was not sent."
        step = "Check the item, then trigger the DAG again to ask for approval (or answer sooner next time)."
    else:
        what = f"The {item} was rejected{' by ' + d.who if d.who else ''}" + (f": {d.comment}" if d.comment else ".")
        step = "Fix what the comment asks, then trigger the DAG again; it will ask for approval again."
    return notify(
        engine,
        transport,
        org,
        title=f"{item[0].upper() + item[1:]} not sent ({LABELS.get(d.decision, d.decision).lower()})",
        what=what,
        dedupe_key=f"approval-held:{run[0]}:{run[1]}:{task_id}",
        kind="approval_held",
        run=run,
        link=link,
        next_step=step,
        d=d,
        stopped=True,
    )


# --- Markdown bodies ------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|~"})


def md(text: Any) -> str:
    """Config or spreadsheet text as literal Markdown (no links, HTML or formatting smuggled in), one line."""
    from reaccreditation.mail.compose import one_line

    return one_line(str(text), 300).translate(_MD_SPECIAL)


def _clock(session: Mapping[str, Any]) -> str:
    return f"{session['start']}–{session['end']}"


def timetable_body(data: Mapping[str, Any], summary: Mapping[str, Any], *, replan: Sequence[str] = ()) -> str:
    """The approval page for a timetable: days, sessions per day, who is needed, where the files are."""
    folder = Path(summary["folder"])
    sessions = list(data["sessions"])
    days = list(data["days"])
    lines = [
        f"**{md(data['organisation'])}**: {md(data['assessment_type'])} assessment {data['assessment_year']}, "
        f"**{len(days)} days** ({days[0]} to {days[-1]}), **{len(sessions)} sessions**.",
        "",
    ]
    if replan:
        lines += ["Re-planned with: " + "; ".join(md(r) for r in replan) + ".", ""]
    if summary.get("moved") or summary.get("cancelled"):
        lines += [
            f"Moved since the last timetable: {len(summary.get('moved') or [])}; cancelled: "
            f"{len(summary.get('cancelled') or [])}.",
            "",
        ]
    lines += ["| Day | Date | Sessions | First | Last | Site visits | Virtual |", "|---|---|---|---|---|---|---|"]
    for n, day in enumerate(days, 1):
        today = sorted((s for s in sessions if s["day"] == n), key=lambda s: s["start"])
        if not today:
            lines.append(f"| {n} | {day} | 0 | | | | |")
            continue
        visits = sum(s["mode"] == "site_visit" for s in today)
        virtual = sum(s["mode"] == "virtual" for s in today)
        lines.append(
            f"| {n} | {day} | {len(today)} | {md(today[0]['title'])} {today[0]['start']} | {md(today[-1]['title'])} "
            f"{today[-1]['end']} | {visits} | {virtual} |"
        )
    people: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for s in sessions:
        for m in s["members"]:
            people.setdefault(m["email"], []).append(s["day"])
            names[m["email"]] = m["name"]
    ordered = sorted(people, key=lambda e: (-len(people[e]), names[e]))
    lines += [
        "",
        f"**Who is needed** ({len(people)} people, sessions and days): "
        + "; ".join(f"{md(names[e])} {len(people[e])} (day {', '.join(map(str, sorted(set(people[e]))))})" for e in ordered)
        + ".",
        "",
        f"**Files**: workbook `{folder / 'timetable.xlsx'}`; day pictures "
        + ", ".join(f"`{folder / f'timetable-day{n}.png'}`" for n in range(1, len(days) + 1))
        + ".",
        "",
        "**Session keys** (for the Re-plan form): "
        + ", ".join(f"`{s['key']}` d{s['day']} {s['start']}" for s in sorted(sessions, key=lambda s: (s["day"], s["start"])))
        + ".",
        "",
        "**Approve** sends the invites. **Re-plan** solves again with the form's constraints and asks again "
        "(lock sessions by key; leave out people by email; leave out days by number; move sessions as `key=day`). "
        "**Reject** sends nothing. If nobody answers in time, nothing is sent and the quality team is emailed.",
    ]
    return "\n".join(lines)


RAG_LABEL = {"green": "🟢 green", "amber": "🟠 amber", "red": "🔴 red", "grey": "⚪ no data"}


def pack_body(manifest: Mapping[str, Any], gaps: Sequence[Mapping[str, Any]], *, limit: int = 8) -> str:
    """The approval page for a readiness pack: readiness, RAG per criterion, top gaps, recipients, files."""
    h = manifest["headline"]
    folder = Path(manifest["folder"])
    overall = h.get("overall") or {}
    lines = [
        f"**{md(h.get('label') or 'Readiness pack')}** for {h['pack_date']} ({md(h.get('kind') or '')}): overall "
        f"**{RAG_LABEL.get(h.get('rag'), md(h.get('rag')))}**"
        + (
            f", {overall.get('ready')} of {overall.get('elements')} elements ready ({overall.get('ready_pct')}%), "
            f"{overall.get('at_risk')} at risk, {overall.get('gaps')} gaps"
            if overall.get("elements")
            else ""
        )
        + ".",
        "",
    ]
    if h.get("missing"):
        lines += ["Missing from this pack: " + "; ".join(md(m) for m in h["missing"]) + ".", ""]
    if h.get("criteria"):
        lines += ["| Criterion | RAG | Ready | At risk | Gaps |", "|---|---|---|---|---|"]
        for key, c in h["criteria"].items():
            lines.append(
                f"| {md(key)} | {RAG_LABEL.get(c.get('rag'), md(c.get('rag')))} | {c.get('ready')} | {c.get('at_risk')} | "
                f"{c.get('gaps')} |"
            )
        lines.append("")
    lines += [f"**Top gaps** ({len(gaps)}):", ""]
    lines += [
        f"- {md(g['element_id'])} {md(g.get('title') or '')}: {md(g.get('forecast') or '')}; {md(g.get('reason') or '')}"
        + (f" ({md(', '.join(g['owners']))})" if g.get("owners") else "")
        for g in list(gaps)[:limit]
    ] or ["- none"]
    if len(gaps) > limit:
        lines.append(f"- … and {len(gaps) - limit} more (see the workbook)")
    messages = list(manifest.get("messages") or [])
    lines += ["", f"**Recipients** ({len(messages)} messages):", ""]
    lines += [
        f"- {md(m['to']['name'])} <{md(m['to']['email'])}>"
        + (f" (department {md(m['department_id'])})" if m.get("department_id") else " (leadership)")
        for m in messages
    ]
    lines += ["", "**Files**", "", f"- Folder: `{folder}`"]
    leader = next((m for m in messages if not m.get("department_id")), None)
    if leader:
        lines += [
            f"- Leadership email (HTML): `{folder / leader['html']}`",
            f"- Leadership workbook: `{folder / leader['attachment']}`",
        ]
    lines += [
        "",
        "**Approve** sends every message above once. **Reject** (say why in the comment) sends nothing and records the reason; "
        "if nobody answers in time, nothing is sent and the quality team is emailed.",
    ]
    return "\n".join(lines)


def pending_invites(engine: Engine, year: int) -> list[str]:
    """Stored sessions whose current invite (UID, SEQUENCE) has not been sent: what an approval would release."""
    from reaccreditation.mail.outbox import already_sent
    from reaccreditation.timetable.store import stored_sessions

    return [
        r["session_key"]
        for r in stored_sessions(engine, year)
        if r["attendees"] and not already_sent(engine, f"timetable:{year}:{r['uid']}:{r['sequence']}")
    ]


# --- The Airflow operator -------------------------------------------------------------------------------


@cache
def _operator_class(entry: bool = False) -> type:
    from airflow.providers.standard.operators.hitl import HITLEntryOperator, HITLOperator

    class ConfiguredHITLOperator(HITLEntryOperator if entry else HITLOperator):  # type: ignore[misc]
        """A HITL task whose approvers, timeout, subject and body are read when it runs, not at parse time.

        ``body_task``: the upstream task whose XCom dict has ``approval_subject`` and ``approval_body``.
        The quality team gets one email with the link to the answer page.
        """

        def __init__(self, *, body_task: str | None = None, item: str = "item", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.body_task = body_task
            self.item = item

        def execute(self, context: Any) -> Any:
            from airflow.sdk import conf

            from reaccreditation.orchestration import connections as airflow_adapter

            org = airflow_adapter.organisation()
            self.assigned_users = approvers(org)
            self.response_timeout = org.approvals.timeout
            if self.body_task:
                upstream = context["ti"].xcom_pull(task_ids=self.body_task) or {}
                self.subject = upstream.get("approval_subject") or self.subject
                self.body = upstream.get("approval_body") or self.body
            ti = context["ti"]
            link = required_actions_link(conf.get("api", "base_url", fallback=None), ti.dag_id, ti.run_id, ti.task_id)
            notify(
                airflow_adapter.engine(),
                airflow_adapter.smtp_transport(),
                org,
                title=f"Approval needed: {self.subject}",
                what=f"The {self.item} waits for your answer in Airflow until {org.approvals.timeout} from now; "
                f"approvers: {', '.join(u['name'] for u in self.assigned_users)}.",
                dedupe_key=f"approval-request:{ti.dag_id}:{ti.run_id}:{ti.task_id}",
                kind="approval_request",
                run=(ti.dag_id, ti.run_id),
                link=link,
                next_step="Nothing goes out until someone answers; if nobody does in time, nothing is sent.",
            )
            return super().execute(context)

    ConfiguredHITLOperator.__name__ = ConfiguredHITLOperator.__qualname__ = (
        "ConfiguredHITLEntryOperator" if entry else "ConfiguredHITLOperator"
    )
    ConfiguredHITLOperator.__module__ = __name__
    return ConfiguredHITLOperator


def _retry_policy() -> Any:
    """The shared policy (retry an SMTP outage while asking), plus: a lapsed form fails at once, never re-asks."""
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    from reaccreditation.orchestration.connections import default_args

    lapsed = RetryRule(
        exception=[
            "airflow.providers.standard.exceptions.HITLTimeoutError",
            "airflow.providers.standard.exceptions.HITLTriggerEventError",
        ],
        action=RetryAction.FAIL,
        reason="nobody answered in time: nothing was stored or sent; trigger the DAG again to ask again",
    )
    return ExceptionRetryPolicy(rules=[lapsed, *default_args()["retry_policy"].rules])


def operator(*, task_id: str, subject: str, options: list[str], defaults: list[str] | None, **kwargs: Any) -> BaseOperator:
    """An approval task: assigned to the config's approvers, timing out to ``defaults`` (never "send")."""
    kwargs.setdefault("retry_policy", _retry_policy())
    return _operator_class()(task_id=task_id, subject=subject, options=options, defaults=defaults, **kwargs)


def entry_operator(*, task_id: str, subject: str, **kwargs: Any) -> BaseOperator:
    """A form to fill in (``HITLEntryOperator``, one "OK" button) for the config's approvers.

    No default: a form nobody filled in fails the task after the timeout (no retry) and stores nothing.
    """
    kwargs.setdefault("retry_policy", _retry_policy())
    return _operator_class(True)(task_id=task_id, subject=subject, options=["OK"], defaults=None, **kwargs)
