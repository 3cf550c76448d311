"""Fixtures for sign-off tests: the demo council with a short solver time limit."""

from __future__ import annotations

import pytest


@pytest.fixture
def council(airflow_db, demo, project_db, outbox):  # type: ignore[no-untyped-def]
    """The demo council (solver capped at 4 s), a fresh project DB and an empty SMTP sink."""
    text = demo["config"].read_text().replace("solver_seconds: 10", "solver_seconds: 4")
    demo["config"].write_text(text)
    return {"url": project_db, "outbox": outbox, **demo}
