"""What the drill reads from (and does to) the stack's PostgreSQL, through psql in its
container: the broadcasts table is the ground truth of which broadcasts were accepted."""

import subprocess
from dataclasses import dataclass

from drill.stack import Stack, StackError

SESSIONS_TABLE = "django_aws_api_gateway_websockets_websocketsession"


def psql(stack: Stack, sql: str, timeout: float = 120) -> list[list[str]]:
    """Rows of ``sql``, each a list of text fields."""
    output = stack.compose_run(
        "exec", "-T", "postgres",
        "psql", "-X", "-q", "-U", "wsgateway", "-d", "wsgateway", "-At", "-F", "\t", "-c", sql,
        timeout=timeout,
    )  # fmt: skip
    return [line.split("\t") for line in output.splitlines() if line]


@dataclass(frozen=True)
class BroadcastRow:
    id: int
    text: str
    status: str
    attempts: int
    sent: int
    failed: int
    created_at: float
    finished_at: float | None
    lease_owner: str


def broadcasts(stack: Stack, text: str | None = None) -> list[BroadcastRow]:
    """Every broadcast, or the one whose payload's text is ``text``."""
    where = "true" if text is None else "payload->>'text' = " + _literal(text)
    columns = (
        "id, payload->>'text', status, attempts, sent, failed, extract(epoch FROM created_at),"
        " coalesce(extract(epoch FROM finished_at)::text, ''), lease_owner"
    )
    sql = f"SELECT {columns} FROM broadcasts_broadcast WHERE {where} ORDER BY id"  # noqa: S608
    return [_row(fields) for fields in psql(stack, sql)]


def _literal(text: str) -> str:
    """A SQL string literal (psql -c takes no bind parameters; the texts are the drill's own)."""
    return "'" + text.replace("'", "''") + "'"


def _row(fields: list[str]) -> BroadcastRow:
    number, text, status, attempts, sent, failed, created, finished, owner = fields
    return BroadcastRow(
        id=int(number),
        text=text,
        status=status,
        attempts=int(attempts),
        sent=int(sent),
        failed=int(failed),
        created_at=float(created),
        finished_at=float(finished) if finished else None,
        lease_owner=owner,
    )


def add_users_like(stack: Stack, model: str, names: list[str]) -> None:
    """Users ``names`` with ``model``'s password (its hash copied), active, not staff; an
    existing name is left as it is."""
    values = ", ".join(f"({_literal(name)})" for name in names)
    # The drill's own names, quoted by _literal (psql -c takes no bind parameters).
    sql = (
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"  # noqa: S608
        " is_staff, is_active, date_joined)"
        " SELECT model.password, false, name, '', '', '', false, true, now()"
        f" FROM auth_user model, (VALUES {values}) AS new (name)"
        f" WHERE model.username = {_literal(model)} ON CONFLICT (username) DO NOTHING"
    )
    psql(stack, sql)


def unfinished(stack: Stack) -> int:
    """Broadcasts pending or being sent."""
    rows = psql(
        stack, "SELECT count(*) FROM broadcasts_broadcast WHERE status IN ('pending', 'sending')"
    )
    return int(rows[0][0])


def hold_lock_on_sessions(stack: Stack, seconds: float) -> None:
    """Take an ACCESS EXCLUSIVE lock on the sessions table (every connect, message and
    fan-out reads it) and hold it ``seconds``, as a careless migration or a stuck
    transaction would; returns when it is released."""
    psql(
        stack,
        f"BEGIN; LOCK TABLE {SESSIONS_TABLE} IN ACCESS EXCLUSIVE MODE;"
        f" SELECT pg_sleep({seconds:.1f}); COMMIT;",
        timeout=seconds + 60,
    )


def ready(stack: Stack) -> bool:
    try:
        return psql(stack, "SELECT 1", timeout=10) == [["1"]]
    except (StackError, subprocess.TimeoutExpired):
        return False
