"""``python -m reaccreditation.demo --out DIR [--first-day YYYY-MM-DD]``: write the demo council."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from reaccreditation.demo import default_first_day, generate


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reaccreditation.demo")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--first-day", type=date.fromisoformat, help="assessment first day (default: 18-24 days ahead)")
    parser.add_argument("--framework", default="cse")
    args = parser.parse_args()
    first_day = args.first_day or default_first_day(date.today())
    for kind, path in generate(args.out, first_day, args.framework).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
