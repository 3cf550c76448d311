"""Every DAG imports cleanly, is owned, tagged and retried, and keeps heavy imports out of parse time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
HEAVY = (
    "pandas",
    "great_expectations",
    "openpyxl",
    "ortools",
    "matplotlib",
    "numpy",
    "sqlalchemy",
    "python_calamine",
    "icalendar",
)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dag_files_exist():
    assert DAG_FILES


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= len(DAG_FILES)


def test_every_dag_is_owned_tagged_and_retried(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert "reaccreditation" in dag.tags, dag_id
        assert dag.doc_md, f"{dag_id} has no doc_md for the UI"
        for t in dag.tasks:
            assert t.owner == "quality-team", f"{dag_id}.{t.task_id}"
            assert t.retries >= 1, f"{dag_id}.{t.task_id}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_heavy_import_at_module_level(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in HEAVY, f"{path.name}:{node.lineno} imports {name} at module level"


def test_parsing_the_dags_loads_no_heavy_library():
    """What the scheduler pays for: import every DAG file in a fresh interpreter and look at sys.modules."""
    code = (
        "import sys, runpy\n"
        f"for p in {[str(p) for p in DAG_FILES]!r}: runpy.run_path(p)\n"
        f"print(sorted(m for m in {list(HEAVY[:5])!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_every_named_retry_rule_resolves_to_exceptions():
    """The rules name exceptions by dotted path and import them only when a task fails: a typo must fail here."""
    from airflow.sdk.module_loading import import_string

    from reaccreditation.orchestration import policies

    rules = [v for v in vars(policies).values() if isinstance(v, policies.Rule)]
    assert len(rules) >= 8
    for rule in rules:
        for spec in rule._specs:
            assert issubclass(import_string(spec), BaseException), spec
        assert rule._resolve_exception_classes() and rule.reason


def test_every_task_that_sends_mail_takes_a_slot_of_the_smtp_relay_pool(dagbag):
    import inspect

    senders = {
        f"{dag_id}.{t.task_id}": t.pool
        for dag_id, dag in dagbag.dags.items()
        for t in dag.tasks
        if "smtp_transport(" in inspect.getsource(getattr(t, "python_callable", None) or type(t))
    }
    assert "evidence_requests.send_batch" in senders and len(senders) >= 6
    assert {task: pool for task, pool in senders.items() if pool != "smtp_relay"} == {}


def test_intake_runs_on_arrival_and_every_15_minutes_as_a_fallback(dagbag):
    """The triggerer gets the watchers from the serialized DAG: classpath and kwargs must rebuild them."""
    from importlib import import_module

    from airflow.sdk import AssetOrTimeSchedule
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags["evidence_intake"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert dag.timetable.timetable.expression == "*/15 * * * *"
    assert dag.max_active_runs == 1
    serialized = DagSerialization.to_dict(dag)["dag"]["timetable"]["__var"]
    assets = serialized["asset_condition"]["objects"]
    assert {a["uri"] for a in assets} == {"reaccreditation://arrival/inbox", "reaccreditation://arrival/mailbox"}
    assert serialized["asset_condition"]["__type"] == "asset_any"  # either arrival starts a run, not both
    for asset in assets:
        (watcher,) = asset["watchers"]
        classpath, kwargs = watcher["trigger"]["classpath"], watcher["trigger"]["kwargs"]
        module, name = classpath.rsplit(".", 1)
        rebuilt = getattr(import_module(module), name)(**kwargs)
        assert rebuilt.serialize() == (classpath, kwargs)
        assert kwargs["quiet_while"] == "evidence_intake"
