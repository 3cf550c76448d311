"""Run reaccreditation DAGs in order with ``dag.test()`` and stop at the first that does not succeed.

Usage: python scripts/run_dags.py DAG_ID[@WHEN] ...  WHEN is the run's logical date, which the DAGs treat as
'today': YYYY-MM-DD, or T-N (the stage N days before the configured assessment's first day, on the working
day the DAGs use for it: a Saturday, Sunday or bank holiday moves to the working day before), or omitted
for now. The demo replays the season's stages by running each at its date. The step ``demo-review`` is the
demo quality lead reviewing one department on the queue page (reaccreditation.demo.review): two items sent back.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path


def resolve(when: str) -> datetime:
    """YYYY-MM-DD or T-N relative to the organisation config's first assessment day (as a working day), at noon UTC."""
    if when.upper().startswith("T-"):
        from reaccreditation.organisation.config import load_organisation
        from reaccreditation.settings import config_path

        day = load_organisation(config_path()).due_date(int(when[2:]))
    else:
        day = datetime.fromisoformat(when).date()
    return datetime(day.year, day.month, day.day, 12)


def _test(dag, when):  # type: ignore[no-untyped-def]
    """dag.test(); a DAG that asks for sign-off (docs/approvals.md) is approved by the first configured approver."""
    if not any(hasattr(t, "assigned_users") for t in dag.tasks):
        return dag.test(logical_date=when)
    from devtools.local_answer import Answer, answering
    from reaccreditation.approvals.decisions import APPROVE, approvers
    from reaccreditation.orchestration.context import organisation

    who = approvers(organisation())[0]
    with answering(dag.dag_id, Answer("*", APPROVE, user=(who["id"], who["name"]))) as answers:
        run = dag.test(logical_date=when)
    for seen in answers.seen:
        print(f"  demo: {who['id']} approved {dag.dag_id}.{seen['task_id']}: {seen['subject']}", flush=True)
    return run


def _show_task_log() -> None:
    """What the tasks log at INFO (what is due, what was sent), on this terminal as the run goes.

    Airflow itself runs at WARNING here (scripts/env.sh), so the lines are taken from our loggers directly.
    """
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    ours = logging.getLogger("reaccreditation")
    ours.setLevel(logging.INFO)
    ours.addHandler(handler)


def _demo_review() -> None:
    """The demo quality lead reviews one department's evidence, as on the queue page: two items sent back."""
    from reaccreditation.demo.review import review_one_department
    from reaccreditation.orchestration.connections import engine
    from reaccreditation.orchestration.context import organisation

    done = review_one_department(organisation(), engine())
    if not done:
        print("  demo: the evidence was already reviewed; nothing changed", flush=True)
        return
    print(f"  demo: {done['reviewer']} reviewed {done['department']}: accepted {done['accepted']}, sent back", flush=True)
    for item in done["sent_back"]:
        print(f"    - {item}", flush=True)


def main(specs: list[str]) -> int:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    _show_task_log()
    dags_folder = Path(__file__).resolve().parents[1] / "dags"
    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"import error in {path}:\n{err}", file=sys.stderr)
        return 1
    for spec in specs:
        if spec == "demo-review":
            _demo_review()
            continue
        dag_id, _, day = spec.partition("@")
        dag = bag.get_dag(dag_id)
        if dag is None:
            print(f"no DAG {dag_id!r} in {dags_folder}", file=sys.stderr)
            return 1
        when = pendulum.instance(resolve(day), tz="UTC") if day else pendulum.now("UTC")
        started = time.monotonic()
        run = _test(dag, when)
        state = str(getattr(run, "state", "unknown"))
        print(f"{dag_id} @ {when.date()}: {state} in {time.monotonic() - started:.1f}s", flush=True)
        if not state.endswith("success"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
