"""``python -m reaccreditation.intake held|confirm``: the quality team's word on a held version.

A version mailed by someone other than the sender of the department's current one is held, not current
(:mod:`reaccreditation.intake.store`). ``held`` lists them; ``confirm ID --by NAME`` makes one current (the
department's head and contacts get the reply saying what changed with the next ``evidence_intake`` run).
Without ``--url`` the project database is the Airflow connection ``reaccreditation_db``.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reaccreditation.intake")
    parser.add_argument("--url", help="SQLAlchemy URL of the project database; default: the reaccreditation_db connection")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("held", help="list the versions waiting for confirmation")
    confirm = commands.add_parser("confirm", help="make a held version current")
    confirm.add_argument("id", type=int, help="the held file's id (from 'held' or the quality team's email)")
    confirm.add_argument("--by", required=True, help="your name, kept with the version and told to the department")
    args = parser.parse_args(argv)

    from reaccreditation.db import make_engine
    from reaccreditation.intake import store

    url = args.url
    if not url:
        from reaccreditation.orchestration.connections import database_url

        url = database_url()
    engine = make_engine(url)
    if args.command == "held":
        held = store.held_versions(engine)
        for sub in held:
            previous = (sub["details"] or {}).get("held", {}).get("previous", {})
            print(
                f"{sub['id']}\t{sub['department_id']}\t{sub['original_name']}\tsent by {sub['submitter']}\t"
                f"current version sent by {previous.get('submitter')}\t{sub['rows_accepted']} item(s)"
            )
        print(f"{len(held)} held version(s)", file=sys.stderr)
        return 0
    try:
        done = store.confirm_held(engine, args.id, args.by)
    except store.NotHeld as exc:
        print(f"not confirmed: {exc}", file=sys.stderr)
        return 1
    print(f"confirmed: {done['name']} is now version {done['version']} of {done['department_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
