"""``python -m reaccreditation.portfolio revoke|reissue|revocations``: withdraw assessors' download links.

``revoke --year Y --to EMAIL --reason WHY --by NAME`` voids every link of year Y sent to EMAIL (add
``--version N`` for one version's; ``--version N`` without ``--to`` voids that version's link of every
recipient). It is kept in the project database (who, when, why) and the download page then answers
"This download link was withdrawn on <date> by the quality team. Ask <quality mailbox> for a new one."
Links issued after it keep working. ``reissue --to EMAIL --by NAME [--version N]`` mails that assessor
(one of the config's) a fresh link for a version already sent, the latest by default, through the outbox:
once, however often it is run. ``revocations --year Y`` lists them. Without ``--url`` the project
database is the Airflow connection ``reaccreditation_db``; the organisation config is the one the DAGs
read (REACCREDITATION_CONFIG), mail goes through ``smtp_default``. Details in docs/portfolio.md.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reaccreditation.portfolio")
    parser.add_argument("--url", help="SQLAlchemy URL of the project database; default: the reaccreditation_db connection")
    commands = parser.add_subparsers(dest="command", required=True)
    revoke = commands.add_parser("revoke", help="withdraw download links before they expire")
    revoke.add_argument("--year", type=int, required=True, help="the assessment year")
    revoke.add_argument("--to", help="the recipient whose links to withdraw (default: every recipient of --version)")
    revoke.add_argument("--version", type=int, help="only this portfolio version's links (default: every version)")
    revoke.add_argument("--reason", required=True, help="why, kept with the revocation (never shown to the assessor)")
    revoke.add_argument("--by", required=True, help="your name, kept with the revocation")
    revoke.add_argument("--contact", help="whom a refused assessor is told to ask; default: the config's quality mailbox")
    reissue = commands.add_parser("reissue", help="mail an assessor a fresh link for a version already sent")
    reissue.add_argument("--year", type=int, help="the assessment year; must be the config's (the default)")
    reissue.add_argument("--to", required=True, help="the assessor (timetable.assessors, else assessment.assessor)")
    reissue.add_argument("--version", type=int, help="the version (default: the latest one sent)")
    reissue.add_argument("--by", required=True, help="your name, kept in the outbox with the email")
    reissue.add_argument("--base-url", help="the Airflow API server's address in the link; default: [api] base_url")
    listing = commands.add_parser("revocations", help="list the revocations of a year")
    listing.add_argument("--year", type=int, required=True)
    args = parser.parse_args(argv)

    from reaccreditation.db import make_engine
    from reaccreditation.portfolio import revoke as revocation

    url = args.url
    if not url:
        from reaccreditation.orchestration.connections import database_url

        url = database_url()
    engine = make_engine(url)
    if args.command == "revocations":
        rows = revocation.revocations(engine, args.year)
        for r in rows:
            print(
                f"{r['id']}\t{r['revoked_at']:%Y-%m-%d %H:%M:%S %Z}\tversion {r['version'] or 'every'}\t"
                f"{r['recipient'] or 'every recipient'}\tby {r['revoked_by']}\t{r['reason']}"
            )
        print(f"{len(rows)} revocation(s)", file=sys.stderr)
        return 0

    from reaccreditation.organisation.config import ConfigError, load_organisation
    from reaccreditation.settings import config_path

    org = None
    if args.command == "reissue" or not args.contact:
        try:
            org = load_organisation(config_path())
        except ConfigError as exc:
            print(f"not done: the organisation config: {exc}", file=sys.stderr)
            return 1
    if args.command == "revoke":
        try:
            done = revocation.revoke(
                engine,
                args.year,
                recipient=args.to,
                version=args.version,
                reason=args.reason,
                by=args.by,
                contact=args.contact or org.quality_team.mailbox,  # type: ignore[union-attr]
            )
        except revocation.NotRevoked as exc:
            print(f"not revoked: {exc}", file=sys.stderr)
            return 1
        which = f"version {done['version']}" if done["version"] is not None else "every version"
        print(f"revoked ({done['id']}): the {args.year} portfolio links of {done['recipient'] or 'every recipient'}, {which}")
        for link in done["links"]:
            print(f"  void: version {link['version']} to {link['recipient']} ({link['status']} {link['sent_at'] or ''})")
        return 0

    from reaccreditation.orchestration.connections import api_base_url, server_signing_key, smtp_transport

    assert org is not None
    if args.year is not None and args.year != org.assessment.year:
        print(f"not reissued: the config is for {org.assessment.year}, not {args.year}", file=sys.stderr)
        return 1
    with smtp_transport() as transport:
        try:
            done = revocation.reissue(
                org,
                engine,
                transport,
                recipient=args.to,
                version=args.version,
                by=args.by,
                signing_key=server_signing_key(),
                base_url=args.base_url or api_base_url(),
            )
        except revocation.NotReissued as exc:
            print(f"not reissued: {exc}", file=sys.stderr)
            return 1
    if done["sent"]:
        print(f"reissued: a new link for version {done['version']} sent to {done['to']}")
    else:
        print(f"already reissued: {done['to']} was sent a new link for version {done['version']} before; nothing sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
