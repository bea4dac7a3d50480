"""The chaos drill: `python -m drill.chaos` (make chaos-drill), docs/reliability.md.

On a compose stack of its own (2 web replicas, the emulator, PostgreSQL, the deliver_broadcasts
job), CHAOS_CLIENTS clients stay connected and ping (one ping in flight each, CHAOS_PING_PAUSE
apart: 5 s, or 2 s in the short run), one broadcasts every second, and the
drill injects one fault at a time: PostgreSQL restarted, a web replica SIGKILLed mid-way
through a broadcast to CHAOS_BIG_BROADCAST recipients, the emulator restarted, the Management
API throttling/failing/hanging, a long lock on the sessions table. After each it waits until
every client is served again, then lets the stack settle. It reports per fault, and checks: no
broadcast lost by a client that stayed connected, duplicates only as the delivery guarantee
allows, no 5xx outside the faults, no container restarted but the killed one, no liveness
failure that would restart a pod during a database fault. Exit 0 only if all hold. The stack
is removed (compose down -v) at the end, also on failure or Ctrl-C.

Variables: CHAOS_SHORT=1 (the CI run: seconds per fault, 50 clients, a 400-recipient
broadcast), CHAOS_CLIENTS, CHAOS_BIG_BROADCAST, CHAOS_SETTLE_SECONDS, CHAOS_PING_PAUSE,
CHAOS_FAULTS (comma-separated names, default all, in order), CHAOS_REPORT (a JSON file for the
figures), APP_IMAGE, POSTGRES_IMAGE, DEMO_USERNAME, DEMO_PASSWORD, DRILL_PROJECT.
"""

import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devtools.console import say
from devtools.environment import BadVariable, env_bool, env_float, env_int, env_list, env_str
from devtools.ports import free_port
from drill.chaos import database, table
from drill.chaos.analysis import FaultRun, analyse
from drill.chaos.faults import (
    FAULTS,
    LAST_FRAMES_SECONDS,
    WEB_REPLICAS,
    Drill,
    Durations,
    until,
)
from drill.chaos.members import Hub, Member, broadcast_every
from drill.chaos.probes import Prober
from drill.clients import Browser
from drill.entry import run_drill
from drill.findings import Findings
from drill.stack import (
    Stack,
    StackError,
    free_subnet,
    postgres_image,
    project_name,
)

COMPOSE_FILE = Path(__file__).with_name("docker-compose.yml")
SERVICES = ("postgres", *WEB_REPLICAS, "emulator", "scheduler")
UP_TIMEOUT = 180
# Seconds a ping may wait for its pong before it counts as lost: a reply is sent within 2 s
# (WS_REPLY_TIMEOUT_SECONDS) or not at all, and API Gateway tells the client nothing when its
# integration fails.
ANSWER_TIMEOUT = 5.0
RECOVERY_LIMIT = 120.0  # seconds after a fault's end within which every client must be served
BROADCAST_CONCURRENCY = 32  # the app's default: the chunk a takeover may repeat
FULL = Durations(
    postgres_down=20, management_api_each_mode=8, postgres_lock=30, big_broadcast_recipients=5000
)
SHORT = Durations(
    postgres_down=5, management_api_each_mode=3, postgres_lock=8, big_broadcast_recipients=400
)


@dataclass(frozen=True)
class Settings:
    short: bool
    clients: int
    durations: Durations
    settle: float
    ping_pause: float
    faults: list[str]
    report: str
    username: str
    password: str

    @classmethod
    def from_env(cls) -> "Settings":
        short = env_bool("CHAOS_SHORT")
        base = SHORT if short else FULL
        big = env_int("CHAOS_BIG_BROADCAST", base.big_broadcast_recipients)
        faults = env_list("CHAOS_FAULTS", list(FAULTS))
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise BadVariable(f"CHAOS_FAULTS: unknown {sorted(unknown)}; known: {list(FAULTS)}")
        return cls(
            short=short,
            clients=env_int("CHAOS_CLIENTS", 50 if short else 200),
            durations=Durations(
                base.postgres_down, base.management_api_each_mode, base.postgres_lock, big
            ),
            settle=env_float("CHAOS_SETTLE_SECONDS", 5 if short else 20),
            ping_pause=env_float("CHAOS_PING_PAUSE", 2.0 if short else 5.0),
            faults=faults,
            report=env_str("CHAOS_REPORT", ""),
            username=env_str("DEMO_USERNAME", "demo"),
            password=env_str("DEMO_PASSWORD", "demo-password-change-me"),
        )


def make_stack(settings: Settings) -> Stack:
    subnet = free_subnet()
    env = {
        "DRILL_WEB_PORT": str(free_port()),
        "DRILL_WEB2_PORT": str(free_port()),
        "DRILL_OPS_PORT": str(free_port()),
        "DRILL_OPS2_PORT": str(free_port()),
        "DRILL_SUBNET": str(subnet),
        "DRILL_EMULATOR_IP": str(subnet[10]),
        "POSTGRES_IMAGE": postgres_image(),
        # The short run's big broadcast has fewer recipients: slower posts keep its fan-out
        # long enough to be killed mid-way.
        "DRILL_POSTS_PER_SECOND": "50" if settings.short else "500",
    }
    scratch = Path(tempfile.mkdtemp(prefix="chaos-drill-"))
    return Stack(project_name("chaos"), COMPOSE_FILE, env, scratch=scratch)


def restart_counts(stack: Stack) -> dict[str, int]:
    return {service: stack.inspect(service)["RestartCount"] for service in SERVICES}


async def served_again(members: list[Member], since: float) -> float | None:
    """When every pinging member has had a ping sent after ``since`` answered; None if that
    takes longer than RECOVERY_LIMIT."""
    pinging = [m for m in members if m.pinging]
    deadline = time.monotonic() + RECOVERY_LIMIT
    while time.monotonic() < deadline:
        firsts = [_first_answer(m, since) for m in pinging]
        if all(firsts):
            return max(firsts)
        await asyncio.sleep(0.5)
    return None


def unserved(members: list[Member], since: float) -> str:
    """A few of the pinging members with no answer since ``since``, and what they went through."""
    waiting = [m for m in members if m.pinging and _first_answer(m, since) is None]
    return f"{len(waiting)} clients, for example " + "; ".join(
        f"{m.name}: connected {m.current is not None}, "
        f"{sum(1 for p in m.pings if p.sent_at >= since)} pings sent, "
        f"handshakes failed {Counter(h.reason for h in m.handshakes if not h.ok and h.at >= since)}"
        for m in waiting[:3]
    )


def _first_answer(member: Member, since: float) -> float | None:
    answers = [p.answered_at for p in member.pings if p.sent_at >= since and p.answered_at]
    return min(answers, default=None)


async def exercise(stack: Stack, settings: Settings) -> tuple[Drill, list[FaultRun], Prober]:
    web = f"http://localhost:{stack.env['DRILL_WEB_PORT']}"
    hub = Hub(
        browser=Browser(web, settings.username, settings.password),
        ws_url=f"ws://{stack.env['DRILL_EMULATOR_IP']}:8001/local",
        origin=web,
        ping_pause=settings.ping_pause,
        answer_timeout=ANSWER_TIMEOUT,
    )
    stop = asyncio.Event()
    broadcaster = Member("broadcaster", pinging=False)
    drill = Drill(stack, hub, settings.durations, [broadcaster], broadcaster, sent=[])
    drill.tasks.append(asyncio.create_task(broadcaster.run(hub, stop)))
    drill.add_members("client", settings.clients, pinging=True, stop=stop)
    ports = (("DRILL_WEB_PORT", "DRILL_OPS_PORT"), ("DRILL_WEB2_PORT", "DRILL_OPS2_PORT"))
    prober = Prober(
        {
            replica: {"http": int(stack.env[http]), "ops": int(stack.env[ops])}
            for replica, (http, ops) in zip(WEB_REPLICAS, ports, strict=True)
        }
    )
    drill.tasks.append(asyncio.create_task(prober.run(stop)))
    if await served_again(drill.members, time.time()) is None:
        raise StackError("the clients could not all connect and be answered")
    say(f"{settings.clients} clients pinging every {settings.ping_pause} s; a broadcast a second")
    drill.ticking.set()
    ticks = broadcast_every(broadcaster, stop, drill.ticking, 1.0, drill.sent)
    drill.tasks.append(asyncio.create_task(ticks))
    await asyncio.sleep(settings.settle)
    runs = []
    for name in settings.faults:
        before = await asyncio.to_thread(restart_counts, stack)
        say(f"fault {name}: begins")
        load = os.getloadavg()[0]  # the machine may be shared: figures read beside it
        window = await FAULTS[name](drill)
        window.details["machine_load_1m_at_start"] = round(load, 1)
        say(f"fault {name}: ended after {window.ended - window.started:.1f} s; waiting for clients")
        recovered = await served_again(drill.members, window.ended)
        say(
            f"fault {name}: every client served again "
            + (f"{recovered - window.ended:.1f} s after its end" if recovered else "NEVER")
        )
        if recovered is None:
            say(f"not served since the fault's end: {unserved(drill.members, window.ended)}")
        await asyncio.sleep(settings.settle)
        after = await asyncio.to_thread(restart_counts, stack)
        runs.append(FaultRun(window, recovered, {s: after[s] - before[s] for s in SERVICES}))
    drill.ticking.clear()
    say("waiting until no broadcast is pending or being sent")
    try:
        await until(lambda: not database.unfinished(stack), "every broadcast to finish", 2.0)
    except StackError as error:  # reported below: each counts as lost to its clients
        say(f"{error}: {database.unfinished(stack)} broadcasts unfinished")
    await asyncio.sleep(LAST_FRAMES_SECONDS)
    drill.ended = time.time()
    stop.set()
    drill.ticking.set()
    await asyncio.wait_for(asyncio.gather(*drill.tasks), 60)
    return drill, runs, prober


def report(findings: Findings, settings: Settings) -> None:
    for fault in findings.figures["faults"]:
        say(f"fault {json.dumps(fault)}")
    say(f"outside the faults {json.dumps(findings.figures['outside_faults'])}")
    print(table.markdown(findings.figures), flush=True)
    if settings.report:
        Path(settings.report).write_text(json.dumps(findings.figures, indent=2) + "\n")
        say(f"figures written to {settings.report}")


def run(settings: Settings) -> int:
    stack = make_stack(settings)
    say(f"project {stack.project}: postgres, migrate, web1, web2, emulator, scheduler")
    started = time.monotonic()
    try:
        stack.up(UP_TIMEOUT)
        say(f"stack healthy after {time.monotonic() - started:.0f} s")
        drill, runs, prober = asyncio.run(exercise(stack, settings))
        say("reading the broadcasts table and the containers' logs")
        logs = {service: stack.logs(service) for service in (*WEB_REPLICAS, "emulator")}
        findings = analyse(
            runs, drill, database.broadcasts(stack), logs, prober, BROADCAST_CONCURRENCY
        )
        report(findings, settings)
    except (StackError, TimeoutError) as error:
        say(f"FAILED: {str(error) or 'a step timed out'}")
        return 1
    finally:
        stack.down()
        say(f"done in {time.monotonic() - started:.0f} s")
    return findings.verdict()


if __name__ == "__main__":
    sys.exit(run_drill(Settings.from_env, run))
