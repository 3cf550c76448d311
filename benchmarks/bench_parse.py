"""DAG parse time, as the dag-processor pays it: per file and for the whole dags/ folder.

Targets: every DAG file < 0.2 s, the folder < 1 s. Like Airflow 3's dag-processor, this process imports
Airflow once and forks a child per parse, so a figure is the DAG file's own cost (its imports beyond
Airflow, its top-level code). Each file is parsed ``--repeat`` times in fresh forks; the best run is kept.
Two figures per file: Airflow's own ``DagBag`` timing (``dagbag_stats[].duration``, what
``airflow dags report`` shows) and the wall time of the whole ``DagBag(file)`` call.

    source scripts/env.sh && python benchmarks/bench_parse.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from measure import load, peak_rss_mib, rss_line

ROOT = Path(__file__).resolve().parents[1]


def _parse(path: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    wall = time.perf_counter() - started
    stats = {
        Path(s.file).name: (s.duration.total_seconds() if hasattr(s.duration, "total_seconds") else float(s.duration), s.dag_num)
        for s in bag.dagbag_stats
    }
    return {
        "wall": wall,
        "stats": stats,
        "errors": {Path(k).name: v for k, v in bag.import_errors.items()},
        "rss": peak_rss_mib(),
    }


def parse(path: Path, repeat: int) -> dict:
    """Best of ``repeat`` parses of ``path``, each in a fresh fork of this (Airflow-loaded) process."""
    runs = []
    for _ in range(repeat):
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
            runs.append(pool.submit(_parse, str(path)).result())
    best = min(runs, key=lambda r: r["wall"])
    best["rss"] = max(r["rss"] for r in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import airflow.sdk  # noqa: F401 - paid once by the dag-processor, not per file
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401

    print(load())
    files = sorted((ROOT / "dags").glob("*.py"))
    print(f"{'DAG file':32} {'DagBag s':>9} {'wall s':>7} {'dags':>5} {'target 0.2 s':>13}")
    worst, rss = 0.0, 0.0
    for f in files:
        result = parse(f, args.repeat)
        seconds = sum(s for s, _ in result["stats"].values())  # one file: its one stat, however Airflow names it
        dags = sum(d for _, d in result["stats"].values())
        worst = max(worst, seconds)
        rss = max(rss, result["rss"])
        print(f"{f.name:32} {seconds:9.3f} {result['wall']:7.3f} {dags:5d} {'met' if seconds < 0.2 else 'NOT MET':>13}")
        for name, err in result["errors"].items():
            print(f"  import error in {name}: {err.splitlines()[-1]}")
    folder = parse(ROOT / "dags", args.repeat)
    total = sum(s for s, _ in folder["stats"].values())
    print(
        f"{'whole dags/ folder':32} {total:9.3f} {folder['wall']:7.3f} {sum(d for _, d in folder['stats'].values()):5d} "
        f"{'met' if folder['wall'] < 1 else 'NOT MET':>13} (target 1 s)"
    )
    print(
        f"files: {len(files)}; worst file {worst:.3f} s (target 0.2 s: {'met' if worst < 0.2 else 'NOT MET'}); "
        f"folder {folder['wall']:.3f} s wall (target 1 s: {'met' if folder['wall'] < 1 else 'NOT MET'})"
    )
    print(f"parser child {rss_line(max(rss, folder['rss']))}")
    print(load())


if __name__ == "__main__":
    main()
