"""Every DAG and task is named in the users' words in the UI (dag_display_name, description, task_display_name)."""

from __future__ import annotations

import pytest

from ..conftest import ROOT


@pytest.fixture(scope="module")
def dags():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return list(bag.dags.values())


def test_every_dag_and_task_has_a_name_in_words(dags):
    assert len(dags) == len(list((ROOT / "dags").glob("*.py")))
    unnamed = []
    for dag in dags:
        if dag.dag_display_name == dag.dag_id or not dag.description or "_" in dag.dag_display_name:
            unnamed.append(dag.dag_id)
        unnamed += [f"{dag.dag_id}.{t.task_id}" for t in dag.tasks if t.task_display_name == t.task_id]
    assert unnamed == []
    names = [d.dag_display_name for d in dags]
    assert len(set(names)) == len(names)  # two cards with one name would be no help
    readiness = next(d for d in dags if d.dag_id == "readiness_pack")
    assert readiness.dag_display_name == "Readiness packs for leadership"
    assert readiness.get_task("approve_pack").task_display_name == "Sign off the pack"
