"""The Airflow Assets that chain the stages; each is named here because a DAG produces it."""

from __future__ import annotations

from airflow.sdk import Asset

EVIDENCE_REGISTER = Asset("reaccreditation://evidence_register")  # produced by evidence_intake; schedules gap_analysis
GAP_SNAPSHOT = Asset("reaccreditation://gap_snapshot")  # produced by gap_analysis; schedules readiness_pack
