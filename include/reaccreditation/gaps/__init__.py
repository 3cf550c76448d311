"""Gap analysis: how ready each element of the standard is for the assessment, and why not.

Plain functions over plain data (no Airflow, no database): :func:`analyse` turns the organisation, the
evidence register, the submissions and past outcomes into a :class:`Snapshot`. The asset URIs live here
so the intake stage can announce the evidence register without importing a DAG.
"""

from __future__ import annotations

from reaccreditation.gaps.analysis import analyse
from reaccreditation.gaps.model import ElementResult, Evidence, Outcome, Reason, Snapshot, Submission

# The URIs are the shared ones in reaccreditation.orchestration.assets, re-exported so there is one spelling:
# intake emits EVIDENCE_REGISTER_URI (gap_analysis is scheduled on it); gap_analysis emits GAP_SNAPSHOT_URI.
from reaccreditation.orchestration.assets import EVIDENCE_REGISTER as EVIDENCE_REGISTER_URI
from reaccreditation.orchestration.assets import GAP_SNAPSHOT as GAP_SNAPSHOT_URI

__all__ = [
    "EVIDENCE_REGISTER_URI",
    "GAP_SNAPSHOT_URI",
    "ElementResult",
    "Evidence",
    "Outcome",
    "Reason",
    "Snapshot",
    "Submission",
    "analyse",
]
