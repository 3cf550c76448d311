"""The approval email names a real deadline and always links to the answer page, Approve filled."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from reaccreditation.approvals.notices import answer_by
from reaccreditation.orchestration.hitl import primary, required_actions_link


def test_deadline_reads_as_a_day_and_time_in_london():
    assert answer_by(datetime(2026, 12, 5, 1, 23, tzinfo=UTC)) == "Sat 5 Dec, 01:23"
    assert answer_by(datetime(2027, 6, 5, 12, 0, tzinfo=UTC)) == "Sat 5 Jun, 13:00"  # British Summer Time


def test_link_without_base_url_points_at_this_machine(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW__API__PORT", "8181")
    link = required_actions_link("readiness_pack", "manual__2026-12-02T07:00:00+00:00", "approve_pack")
    assert (
        link
        == "http://localhost:8181/dags/readiness_pack/runs/manual__2026-12-02T07%3A00%3A00%2B00%3A00/tasks/approve_pack/required_actions"
    )


def test_approve_is_the_filled_button_only_for_approve_or_reject(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.org/")
    assert primary(["Approve", "Reject"]) == "Approve"
    assert primary(["Approve", "Re-plan", "Reject"]) is None  # three answers: the UI would show a list instead
    link = required_actions_link("readiness_pack", "r1", "approve_pack", highlight="Approve")
    parts = urlsplit(link)
    assert parts.netloc == "airflow.example.org" and json.loads(parse_qs(parts.query)["_options"][0]) == ["Approve"]
