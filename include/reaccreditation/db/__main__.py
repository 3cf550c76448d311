"""``python -m reaccreditation.db upgrade [URL]``: create or migrate the project database.

Without URL it uses the Airflow connection ``reaccreditation_db`` (env ``AIRFLOW_CONN_REACCREDITATION_DB``).
"""

from __future__ import annotations

import argparse

from reaccreditation.db import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reaccreditation.db")
    parser.add_argument("command", choices=["upgrade"])
    parser.add_argument("url", nargs="?", help="SQLAlchemy URL; default: the reaccreditation_db connection")
    args = parser.parse_args()
    url = args.url
    if not url:
        from reaccreditation.orchestration.connections import database_url

        url = database_url()
    upgrade(url)
    print(f"database at head: {url.split('@')[-1]}")


if __name__ == "__main__":
    main()
