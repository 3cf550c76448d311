"""The deployment's Airflow users, named in the organisation config (docs/deploy.md).

Airflow's simple auth manager takes its users from ``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS``
(``name:role,...``) and their passwords from a JSON file. The compose api-server starts through
``deploy/api-server.sh``, which runs ``python -m reaccreditation.organisation.airflow_users``: one
administrator (``AIRFLOW_ADMIN_USER``) plus every quality team member with an ``airflow_user``, who get
the ``user`` role (trigger runs, answer the sign-offs assigned to them; not connections, variables or
users). So the approvers named in the config can exist, each under their own name, and a person
removed from the config loses their account at the next api-server start.

Passwords a user does not have yet are created here, in the 0600 file, and never printed (the simple
auth manager would print generated passwords into the api-server log).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation

ADMIN_ROLE, MEMBER_ROLE = "admin", "user"
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")  # no ',' or ':' (the variable's separators)


def airflow_users(org: Organisation, admin: str) -> list[tuple[str, str]]:
    """(name, role) of every Airflow user: the administrator, then the quality team members with a user name."""
    from reaccreditation.organisation.config import ConfigError

    if not USER_NAME.match(admin):
        raise ConfigError(f"AIRFLOW_ADMIN_USER {admin!r}: use letters, digits, '.', '_', '@' or '-' only")
    users = [(admin, ADMIN_ROLE)]
    for i, member in enumerate(org.quality_team.members):
        name = member.airflow_user
        if name is None:
            continue
        if not USER_NAME.match(name):
            raise ConfigError(
                f"organisation.yaml: quality_team.members[{i}].airflow_user {name!r}: use letters, digits, '.', '_', "
                "'@' or '-' only (at most 64)"
            )
        if name in (u for u, _ in users):
            raise ConfigError(f"organisation.yaml: quality_team.members[{i}].airflow_user {name!r}: already in use")
        users.append((name, MEMBER_ROLE))
    return users


def ensure_passwords(path: Path, names: list[str]) -> list[str]:
    """Give every name without a password in ``path`` a random one (file mode 0600); the names given one."""
    try:
        passwords = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        passwords = {}
    new = [n for n in names if n not in passwords]
    if new:
        passwords |= {n: secrets.token_urlsafe(18) for n in new}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(passwords, f)
        os.replace(tmp, path)
    return new


def main(argv: list[str] | None = None) -> None:
    from datetime import date

    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import config_path

    parser = argparse.ArgumentParser(description="Print AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS from the config.")
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--passwords", type=Path, help="the simple auth manager's password file: add missing users")
    args = parser.parse_args(argv)
    users = airflow_users(load_organisation(config_path(), date.today()), args.admin)
    if args.passwords:
        for name in ensure_passwords(args.passwords, [u for u, _ in users]):
            print(f"password of '{name}' created in {args.passwords} (give it to them in person)", file=sys.stderr)
    print(",".join(f"{u}:{r}" for u, r in users))


if __name__ == "__main__":
    main()
