"""One benchmark run, start to end: database, processes, scenarios, report."""

import asyncio
import importlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench.plan import Plan
from bench.report.figures import Figures
from bench.stack import database
from bench.stack.processes import API_ID, INTEGRATION_HOST, STAGE, raise_open_files_limit
from bench.stack.stack import Stack
from devtools.console import say

if TYPE_CHECKING:
    from bench.scenarios.context import Bench

REPO_DIR = database.REPO_DIR
DOCUMENT = REPO_DIR / "docs" / "performance.md"
CHART = REPO_DIR / "docs" / "performance.png"
REPLICAS = 2


def _setup_django(url: str) -> None:
    """This process uses the ORM to seed rows (users, sessions, tokens, session rows)."""
    os.environ.update(database.django_environment(url))
    os.environ["WS_PUSH_CHANGES_TO_AWS"] = "false"
    import django

    django.setup()


def _seed() -> None:
    from django.db import connections
    from django_aws_api_gateway_websockets.models import ApiGateway, ChannelPermission

    from bench.scenarios.fanout import CHANNEL
    from realtime.channels import sync_channel_permissions

    ApiGateway.objects.update_or_create(
        api_id=API_ID,
        defaults={
            "api_name": "bench",
            "stage_name": STAGE,
            "target_base_endpoint": f"http://{INTEGRATION_HOST}/ws/",
        },
    )
    sync_channel_permissions()
    # Broadcasts reach only the members of a listed channel whose rule they pass
    # (realtime.audience); the fan-out's clients have no user, so the channel is open.
    ChannelPermission.objects.update_or_create(
        channel_name=CHANNEL,
        defaults={"access": ChannelPermission.Access.ALLOW_ALL, "description": "bench fan-out"},
    )
    connections.close_all()


def _session_row_bytes(url: str) -> float:
    """Table, indexes and TOAST of the session table, per row."""
    import psycopg

    table = "django_aws_api_gateway_websockets_websocketsession"
    with psycopg.connect(url) as connection:
        connection.execute(f"ANALYZE {table}")
        size, rows = connection.execute(
            f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}"  # noqa: S608
        ).fetchone()
    return size / max(rows, 1)


async def _scenarios(bench) -> None:
    from bench.scenarios.emulator import emulator_alone
    from bench.scenarios.fanout import fanout
    from bench.scenarios.requests import capacity, latency_against_load
    from bench.scenarios.roundtrip import roundtrip

    for scenario in (capacity, latency_against_load, roundtrip, fanout):
        await scenario(bench)
    # Last: the web processes are stopped by then, so the emulator has the machine.
    bench.stack.stop()
    await emulator_alone(bench)


def prepare(plan: Plan, kind: str) -> "Bench":
    """Database created, migrated, emptied and seeded; browsers signed in; nothing started."""
    from bench.report.machine import describe

    raise_open_files_limit()
    work_dir = Path(tempfile.mkdtemp(prefix=f"wsbench-{kind}-"))
    stack = Stack(work_dir)
    figures = Figures()
    say(f"{kind} run; logs and raw figures in {work_dir}")
    say(f"database {stack.database_url}: create if missing, migrate, empty")
    database.ensure_database(stack.database_url)
    database.migrate(stack.database_url)
    database.empty_run_tables(stack.database_url)
    _setup_django(stack.database_url)
    _seed()
    figures.context.update(describe(stack.database_url, REPO_DIR))

    from bench.load.browsers import sign_in  # the ORM's models: after Django's setup
    from bench.scenarios.context import Bench

    bench = Bench(stack, plan, figures)
    say(f"signing in {plan.browsers} browsers (users and sessions)")
    bench.browsers = sign_in(plan.browsers)
    figures.context["placement"] = bench.pinned.describe()
    return bench


def start(bench: "Bench", replicas: int) -> None:
    """The replicas started on the web CPU, then every party moved where the plan wants it.
    The caller stops the stack (``Stack.stop`` also gives PostgreSQL its CPUs back)."""
    say(f"starting {replicas} gunicorn replica(s)")
    bench.stack.find_postgres()
    bench.stack.placement = bench.pinned
    bench.stack.start_replicas(replicas)
    bench.stack.place(bench.pinned)


def run(plan: Plan, write_docs: bool) -> Figures:
    if write_docs:
        # The chart needs matplotlib (the dev extra): fail now, not after the whole run.
        importlib.import_module("bench.report.chart")
    bench = prepare(plan, plan.name)
    stack, figures = bench.stack, bench.figures
    try:
        start(bench, REPLICAS)
        asyncio.run(_scenarios(bench))
    finally:
        stack.stop()
    figures.add("database.session_row_bytes", _session_row_bytes(stack.database_url))
    figures.save(stack.log_dir / "figures.json")
    report(figures, plan, write_docs)
    return figures


def run_profile(plan: Plan) -> None:
    """One replica, pinned, sampled by py-spy under closed-loop $connect load."""
    from bench.profile import pyspy

    pyspy.executable()  # fail now, not after the stack started
    bench = prepare(plan, f"{plan.name}-profile")
    from bench.profile.session import profile  # the ORM's models: after Django's setup

    try:
        start(bench, 1)
        asyncio.run(profile(bench, plan))
    finally:
        bench.stack.stop()


def report(figures: Figures, plan: Plan, write_docs: bool) -> None:
    from bench.report import chart, markdown

    print("\n" + markdown.render(figures, plan, None) + "\n", flush=True)
    if write_docs:
        chart.draw(figures, plan, CHART)
        markdown.write_into(DOCUMENT, markdown.render(figures, plan, CHART.name))
        say(f"wrote {DOCUMENT.relative_to(REPO_DIR)} and {CHART.relative_to(REPO_DIR)}")
