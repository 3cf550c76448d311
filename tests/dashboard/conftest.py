"""Fixtures for the dashboard and alerts: a season in progress (DB rows and output files)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from . import season as s

DAGS = Path(__file__).with_name("dags")


def run_test_dag(dag_id: str, logical_date: datetime):  # type: ignore[no-untyped-def]
    """dag.test() of a DAG in tests/dashboard/dags, served as a bundle of its own so it can be serialized."""
    from airflow.dag_processing.dagbag import DagBag

    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [{"name": "dashboard-tests", "classpath": local, "kwargs": {"path": str(DAGS), "refresh_interval": 0}}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
        bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
        assert not bag.import_errors, bag.import_errors
        return bag.get_dag(dag_id).test(logical_date=logical_date)


@pytest.fixture
def season(demo, project_db) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The demo council with one hostile department name, requests, workbooks, gaps, history, timetable."""
    from reaccreditation.db import make_engine
    from reaccreditation.organisation.config import load_organisation

    s.rename_department(demo["config"])
    org = load_organisation(demo["config"], s.today())
    engine = make_engine(project_db)
    s.fill_database(engine, [d.id for d in org.departments])
    s.fill_history(engine, org)
    output = demo["data"] / "output"
    s.write_outputs(output, org)
    yield {"org": org, "engine": engine, "output": output, "url": project_db, **demo}
    engine.dispose()
