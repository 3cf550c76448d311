"""URIs of the Airflow Assets that chain the stages (plain strings: no Airflow import here)."""

EVIDENCE_REGISTER = "reaccreditation://evidence_register"  # emitted by intake, consumed by gap analysis
GAP_SNAPSHOT = "reaccreditation://gap_snapshot"  # emitted by gap analysis, consumed by timetable and packs
TIMETABLE = "reaccreditation://timetable"  # emitted by the timetable, consumed by packs
