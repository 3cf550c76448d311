"""An intake run with nothing new costs almost nothing: no Great Expectations, no pandas (benchmarks/bench_intake_run.py
measures it). Checked in a fresh interpreter, since this test process has long imported both."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT

IDLE_RUN = """
import json, sys
from contextlib import nullcontext
from datetime import date
from reaccreditation.intake import pipeline
from reaccreditation.mailbox import pipeline as mailbox
from reaccreditation.orchestration import context
from reaccreditation.orchestration.connections import engine, smtp_transport
from reaccreditation.settings import data_paths

paths = data_paths()
fetched = mailbox.fetch(nullcontext(None), smtp_transport(), context.organisation_today, engine(), paths, "idle")
result = pipeline.sweep_inbox(context.organisation_today, engine(), paths, date(2027, 1, 20), "idle")
replies = pipeline.answer_senders(engine(), context.organisation(), smtp_transport(), result, "idle")
written, rows = pipeline.publish_register(engine(), context.organisation(), paths.output)
heavy = ("great_expectations", "pandas", "numpy", "openpyxl", "python_calamine")
loaded = [m for m in heavy if m in sys.modules]
print(json.dumps({"files": result["files"], "replies": replies, "written": written, "loaded": loaded}))
"""


def test_an_idle_intake_run_imports_neither_gx_nor_pandas(project_db, demo, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    (demo["data"] / "inbox").mkdir(parents=True)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", IDLE_RUN], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"files": 0, "replies": 0, "written": None, "loaded": []}
