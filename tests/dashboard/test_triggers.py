"""A DAG run triggered for a future logical date is refused with a plain reason; every other request passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from reaccreditation.orchestration.triggers import RefuseFutureRuns, refusal

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"got": (await request.body()).decode()}, status_code=200)


def client() -> TestClient:
    routes = [Route("/api/v2/dags/{dag_id}/dagRuns", echo, methods=["POST", "GET"]), Route("/other", echo, methods=["POST"])]
    app = Starlette(routes=routes)
    return TestClient(RefuseFutureRuns(app))


def test_a_future_logical_date_is_refused_in_words():
    reason = refusal("readiness_pack", b'{"logical_date": "2026-12-21T12:00:00Z", "conf": {}}', NOW)
    assert reason is not None
    assert reason.startswith("Not started: readiness_pack was asked to run for Mon 21 Dec 2026, 12:00, which is in the future.")
    assert "Leave the logical date empty" in reason


def test_now_the_past_no_date_and_bodies_airflow_judges_pass():
    assert refusal("readiness_pack", b'{"logical_date": "2026-12-02T09:30:00+00:00"}', NOW) is None
    assert refusal("readiness_pack", b'{"logical_date": "2026-11-27T12:00:00Z"}', NOW) is None
    assert refusal("readiness_pack", b'{"logical_date": null}', NOW) is None
    assert refusal("readiness_pack", b"{}", NOW) is None
    assert refusal("readiness_pack", b"not json", NOW) is None
    assert refusal("readiness_pack", b'{"logical_date": "tomorrow"}', NOW) is None
    assert refusal("readiness_pack", b"[1, 2]", NOW) is None


def test_the_middleware_answers_400_and_replays_every_other_body_intact():
    c = client()
    future = (datetime.now(UTC) + timedelta(days=19)).isoformat()
    r = c.post("/api/v2/dags/readiness_pack/dagRuns", json={"logical_date": future})
    assert r.status_code == 400 and r.json()["detail"].startswith("Not started: readiness_pack was asked to run for ")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = json.dumps({"logical_date": past, "conf": {"department": "housing"}})
    r = c.post("/api/v2/dags/readiness_pack/dagRuns", content=body)
    assert r.status_code == 200 and r.json() == {"got": body}
    r = c.post("/other", json={"logical_date": future})  # not a trigger: untouched
    assert r.status_code == 200
    assert c.get("/api/v2/dags/readiness_pack/dagRuns").status_code == 200
