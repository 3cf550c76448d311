"""Run the hardening suite and print the reliability counts (cases tried, survived, rows lost, duplicate emails).

``python tests/hardening/summarise.py`` (after ``source scripts/env.sh``) runs ``pytest tests/hardening``
with a ledger file, then prints one line per group and the totals as Markdown, ready for
``docs/reliability.md`` and the README. A case counts as survived only if its test passed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ledger = Path(tempfile.mkdtemp()) / "ledger.json"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=6", "tests/hardening"],
        cwd=ROOT,
        env=os.environ | {"HARDENING_LEDGER": str(ledger)},
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - started
    lines = result.stdout.splitlines()
    tail = [line for line in lines if " passed" in line or " failed" in line]
    slowest = [line for line in lines if line.split(" ")[0].endswith("s") and (" call " in line or " setup " in line)]
    cases = json.loads(ledger.read_text()) if ledger.exists() else []
    groups: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        groups[c["group"]].append(c)
    print("| group | cases tried | survived | rows lost | duplicate emails |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, items in groups.items():
        print(
            f"| {name} | {len(items)} | {sum(c['survived'] for c in items)} | {sum(c['rows_lost'] for c in items)} | "
            f"{sum(c['duplicate_emails'] for c in items)} |"
        )
    total = (
        len(cases),
        sum(c["survived"] for c in cases),
        sum(c["rows_lost"] for c in cases),
        sum(c["duplicate_emails"] for c in cases),
    )
    print(f"| **all** | **{total[0]}** | **{total[1]}** | **{total[2]}** | **{total[3]}** |")
    print(f"\npytest: {tail[-1] if tail else 'no summary'} (wall {took:.0f} s); slowest:")
    print("\n".join(f"    {line}" for line in slowest))
    if result.returncode != 0:
        print(result.stdout[-4000:])
        print("a failing test records no ledger entry for its case: fewer cases tried = something broke", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
