"""The PostgreSQL that `make test`, `make dev` and `make bench` use: the user's, or the project's.

    local_postgres.py ensure URL [--explicit] [--variable NAME]
        reach URL's server (starting the project's own if allowed), create URL's database
    local_postgres.py stop
        stop the project's own server (never a user's)

``ensure`` decides, in this order:

1. Something answers at the URL's host and port: that server is used as it is (a user's own
   PostgreSQL, or the project's started earlier). Nothing is started or reconfigured.
2. The URL was set by the user (``--explicit``: make passes it when the variable came from
   the environment or the command line): an error naming the host and port. A second,
   silently started database would hide the user's mistake.
3. The URL is make's default on a loopback address: the project starts a PostgreSQL of its
   own there. Debian's ``postgresql`` package gives the binaries (installed with apt-get when
   missing); ``initdb`` puts a private cluster in ``LOCAL_POSTGRES_DIR``
   (/var/tmp/wsgateway-postgres), listening on that loopback address only, with trust
   authentication for loopback connections only. The system's own clusters
   (/etc/postgresql) are never touched. docs/local-stack.md says why not a container.

Then the URL's database is created when missing. Every step prints one line.
"""

from __future__ import annotations

import argparse
import glob
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO_DIR = Path(__file__).resolve().parents[1]
# Run as a file by make: the repository root, where devtools/ is, as for bench/ and drill/.
sys.path.insert(0, str(REPO_DIR))

from devtools import console  # noqa: E402
from devtools.environment import env_str  # noqa: E402

APT_INSTALL = REPO_DIR / "scripts" / "apt-install.sh"
# Outlives reboots' /tmp cleaning; ProjectServer.start refuses it when someone else owns it.
DEFAULT_DIR = "/var/tmp/wsgateway-postgres"  # noqa: S108
# initdb and postgres refuse to run as root; Debian's package creates this system user.
SERVER_USER_WHEN_ROOT = "postgres"
START_TIMEOUT_SECONDS = 60


class DatabaseUnavailable(Exception):
    """The URL's server cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """A database URL, split into what each step needs."""

    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 5432

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    @property
    def maintenance_url(self) -> str:
        """The server's maintenance database: the only one sure to exist."""
        return urlunsplit(urlsplit(self.url)._replace(path="/postgres"))

    @property
    def shown(self) -> str:
        """The URL without its password, for messages."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def say(message: str, stream: TextIO | None = None) -> None:
    console.say(f"PostgreSQL: {message}", stream)


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether anything accepts a TCP connection there (PostgreSQL or not: checked later)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --- the project's own server ---------------------------------------------------------------


@dataclass(frozen=True)
class ProjectServer:
    """A private cluster in a scratch folder, run with Debian's PostgreSQL binaries."""

    directory: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def start(self, target: Target) -> None:
        bindir = binaries()
        started = time.monotonic()
        owner = server_user()
        self._claim(owner)
        if not (self.data / "PG_VERSION").exists():
            say(f"initdb {self.data} (trust authentication for loopback connections only)")
            run_as(
                owner,
                [
                    str(bindir / "initdb"),
                    f"--pgdata={self.data}",
                    "--username=postgres",
                    "--auth-local=trust",
                    "--auth-host=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
            )
        say(f"starting the project's server on {target.host}:{target.port} (log {self.log})")
        options = (
            f"-c listen_addresses={target.host} -c port={target.port} "
            f"-c unix_socket_directories={self.directory}"
        )
        run_as(
            owner,
            [
                str(bindir / "pg_ctl"),
                f"--pgdata={self.data}",
                f"--log={self.log}",
                f"--options={options}",
                "--wait",
                f"--timeout={START_TIMEOUT_SECONDS}",
                "start",
            ],
        )
        say(f"the project's server is up ({time.monotonic() - started:.1f} s)")

    def _claim(self, owner: str | None) -> None:
        """Create the folder, or check an existing one is ours: in a shared /var/tmp another
        user could have made it (or a symlink) first."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = self.directory.lstat()
        allowed = {os.geteuid()} | ({pwd.getpwnam(owner).pw_uid} if owner else set())
        if self.directory.is_symlink() or status.st_uid not in allowed:
            raise DatabaseUnavailable(
                f"{self.directory} belongs to someone else (uid {status.st_uid}) or is a "
                "symlink: remove it, or set LOCAL_POSTGRES_DIR to a folder of yours"
            )
        if owner:
            shutil.chown(self.directory, user=owner, group=owner)

    def stop(self) -> None:
        if not self.is_running():
            say(f"the project's server is not running ({self.directory}): nothing to stop")
            return
        run_as(
            server_user(),
            [str(binaries() / "pg_ctl"), f"--pgdata={self.data}", "--mode=fast", "--wait", "stop"],
        )
        say(f"stopped the project's server ({self.directory}); its data stays there")


def binaries() -> Path:
    """Debian's PostgreSQL binaries (newest major version), installed with apt when missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if not found:
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [str(APT_INSTALL), "--why", "the project's own PostgreSQL", "postgresql"], check=True
        )
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if not found:
        raise DatabaseUnavailable("apt-get installed postgresql but no initdb was found")
    return Path(found[-1]).parent


def _major_version(initdb: str) -> int:
    return int(Path(initdb).parts[-3])


def server_user() -> str | None:
    """Who runs the server: this user, or Debian's `postgres` user when this is root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER_WHEN_ROOT)
    except KeyError as error:
        raise DatabaseUnavailable(
            f"running as root, but there is no `{SERVER_USER_WHEN_ROOT}` user to run the server"
            " (Debian's postgresql package creates it)"
        ) from error
    return SERVER_USER_WHEN_ROOT


def run_as(user: str | None, command: list[str]) -> None:
    prefix = ["runuser", "-u", user, "--"] if user else []
    # "/" as working directory: runuser keeps the caller's, which `postgres` may not read.
    subprocess.run(  # noqa: S603 - PostgreSQL's binaries, arguments built here
        [*prefix, *command], check=True, cwd="/", stdout=subprocess.DEVNULL
    )


# --- ensure ---------------------------------------------------------------------------------


def ensure(
    target: Target, *, explicit: bool, server: ProjectServer, variable: str = "DATABASE_URL"
) -> None:
    if answers(target.host, target.port):
        say(f"a server answers at {target.host}:{target.port}: using it as it is ({target.shown})")
    elif explicit:
        raise DatabaseUnavailable(
            f"nothing answers at {target.host}:{target.port} ({variable}={target.shown}). "
            "Start that server, or unset the variable so make starts the project's own "
            "PostgreSQL on 127.0.0.1:5432."
        )
    elif not target.is_loopback():
        raise DatabaseUnavailable(
            f"nothing answers at {target.host}:{target.port}, which is not on this machine"
        )
    else:
        say(f"nothing answers at {target.host}:{target.port}: starting the project's own")
        server.start(target)
    create_database(target)


def create_database(target: Target) -> None:
    """Create the URL's database unless it exists, through the maintenance database."""
    try:
        with psycopg.connect(target.maintenance_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [target.name]
            ).fetchone()
            if exists:
                say(f"database {target.name} exists")
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
            say(f"database {target.name} created")
    except psycopg.OperationalError as error:
        raise DatabaseUnavailable(
            f"the server at {target.host}:{target.port} answers but refuses {target.shown}: "
            f"{str(error).strip()}. Give the URL a user and password it accepts."
        ) from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ensure_parser = commands.add_parser("ensure", help="reach or start the server, create the db")
    ensure_parser.add_argument("url")
    ensure_parser.add_argument(
        "--explicit", action="store_true", help="the user set the URL: never start a server"
    )
    ensure_parser.add_argument(
        "--variable", default="DATABASE_URL", help="the URL's variable, named in messages"
    )
    commands.add_parser("stop", help="stop the project's own server")
    arguments = parser.parse_args(argv)
    server = ProjectServer(Path(env_str("LOCAL_POSTGRES_DIR", "") or DEFAULT_DIR))
    try:
        if arguments.command == "stop":
            server.stop()
        else:
            target = Target(arguments.url)
            if not target.name:
                raise DatabaseUnavailable(f"the URL names no database: {target.shown}")
            ensure(target, explicit=arguments.explicit, server=server, variable=arguments.variable)
    except DatabaseUnavailable as error:
        say(str(error), sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        say(f"{error}; see {server.log}", sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
