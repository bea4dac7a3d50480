"""Create the database named by DATABASE_URL if it does not exist (for `make dev`).

Django cannot connect to a database that is not there, so this talks to the server's
maintenance database ``postgres`` instead.
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        print(f"DATABASE_URL has no database name: {url!r}", file=sys.stderr)
        return 2
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                print(f"database {name} exists")
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"database {name} created")
    except psycopg.OperationalError as error:
        print(
            f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432}: {error}\n"
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or set DEV_DATABASE_URL.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
