"""DAG parse time, as the dag-processor pays it: per file and for the whole dags/ folder.

Targets: every file < 0.2 s, the folder < 1 s. Each file is parsed in a fresh interpreter (what a
dag-processor child does), after Airflow itself is imported, so the figure is the DAG file's own cost.

    source scripts/env.sh && python benchmarks/bench_parse.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, sys, time
import airflow.sdk  # paid once by the dag-processor, not per file
from airflow.dag_processing.dagbag import DagBag
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
total = time.perf_counter() - start
stats = [{"file": s.file, "seconds": s.duration.total_seconds() if hasattr(s.duration, "total_seconds") else s.duration,
          "dags": s.dag_num} for s in bag.dagbag_stats]
print(json.dumps({"total": total, "stats": stats, "errors": list(bag.import_errors)}))
"""


def parse(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    files = sorted((ROOT / "dags").glob("*.py"))
    print(f"{'DAG file':40} {'parse s':>8} {'target':>7}")
    worst = 0.0
    for f in files:
        result = parse(f)
        seconds = result["total"]
        worst = max(worst, seconds)
        print(f"{f.name:40} {seconds:8.3f} {'ok' if seconds < 0.2 else 'SLOW':>7}")
    folder = parse(ROOT / "dags")
    print(f"{'whole dags/ folder':40} {folder['total']:8.3f} {'ok' if folder['total'] < 1 else 'SLOW':>7}")
    print(f"files: {len(files)}, worst file {worst:.3f} s (target 0.2 s), folder {folder['total']:.3f} s (target 1 s)")
    if folder["errors"]:
        print("import errors:", folder["errors"])


if __name__ == "__main__":
    main()
