"""benchmarks/bench_e2e.py times the season scripts/run replays: it reads the stages from the script."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_e2e  # noqa: E402


def test_every_command_of_the_replay_is_a_timed_stage() -> None:
    script = (ROOT / "scripts" / "run").read_text()
    replayed = [
        re.sub(r"^run_dags ", "python scripts/run_dags.py ", line.strip())
        for line in script.splitlines()
        if line.strip().startswith("run_dags ") or "python -m reaccreditation.demo.returns" in line
    ]
    replayed = [re.sub(r"\s*\d*>.*$", "", command) for command in replayed]
    assert [command for _, command in bench_e2e.STAGES] == replayed
    assert all(label[0].isdigit() for label, _ in bench_e2e.STAGES)


def test_a_stage_is_its_heading_and_the_command_after_it() -> None:
    script = 'echo "1. one"\n  run_dags a b@T-1 2>> log\necho "2. two"\n  python -m x.y > "$VAR/logs/x.log"\necho "not a stage"\n'
    assert bench_e2e.season_stages(script) == [("1. one", "python scripts/run_dags.py a b@T-1"), ("2. two", "python -m x.y")]
