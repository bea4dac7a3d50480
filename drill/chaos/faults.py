"""The five faults, one at a time, each bounded in time. Each returns its window: when the
fault began and when it ended (the component is back: started, healthy, unlocked, normal
answers); the drill then measures how long the clients take to be served again.
"""

import asyncio
import dataclasses
import ipaddress
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp
import requests

from devtools.console import say
from drill.chaos import database
from drill.chaos.members import Hub, Member, Sent, send_broadcast
from drill.clients import Browser
from drill.stack import Stack, StackError, add_source_addresses

WEB_REPLICAS = ("web1", "web2")
FAULT_SWITCH = "/_emulator/faults/management-api"  # app/gateway_emulator/faults.py
WAIT_LIMIT = 180.0  # seconds any wait of a fault may take before the drill gives up
# A post answered 200 has its frame queued in the emulator: the client reads it a moment later.
LAST_FRAMES_SECONDS = 2.0
PROGRESS_SECONDS = 15.0
# The big broadcast's listeners: this many users, each from an address of its own, and the
# handshakes each has in flight (its user's and address's locks serialise them anyway).
LISTENER_GROUPS = 16
LISTENER_OPENING = 2


@dataclass(frozen=True)
class Durations:
    """How long each fault lasts (the full drill's, or the short run's in CI)."""

    postgres_down: float
    management_api_each_mode: float
    postgres_lock: float
    big_broadcast_recipients: int


@dataclass
class Window:
    fault: str
    started: float
    ended: float
    details: dict = field(default_factory=dict)


@dataclass
class Drill:
    """Everything a fault acts on."""

    stack: Stack
    hub: Hub
    durations: Durations
    members: list[Member]
    broadcaster: Member
    sent: list[Sent]
    # Set while the broadcaster sends its broadcast a second.
    ticking: asyncio.Event = field(default_factory=asyncio.Event)
    # When the clients were told to close: a broadcast never finished by then is lost to
    # every client connected from its creation until this moment.
    ended: float = float("inf")
    tasks: list[asyncio.Task] = field(default_factory=list)

    def add_members(
        self,
        prefix: str,
        count: int,
        pinging: bool,
        stop: asyncio.Event,
        hubs: list[Hub] | None = None,
    ) -> list:
        """``count`` members, dealt round the ``hubs`` (default: the drill's one hub)."""
        hubs = hubs or [self.hub]
        added = [Member(f"{prefix}{n:04d}", pinging) for n in range(count)]
        self.members.extend(added)
        self.tasks.extend(
            asyncio.create_task(m.run(hubs[n % len(hubs)], stop)) for n, m in enumerate(added)
        )
        return added

    @property
    def emulator_url(self) -> str:
        return f"http://{self.stack.env['DRILL_EMULATOR_IP']}:8001"


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    what: str,
    pause: float = 0.5,
    limit: float = WAIT_LIMIT,
    progress: Callable[[], str] | None = None,
):
    """Poll ``check`` (sync checks run in a thread: they call docker) until it holds; print
    ``progress()`` every PROGRESS_SECONDS meanwhile."""
    started = time.monotonic()
    told = started
    while time.monotonic() < started + limit:
        result = check() if asyncio.iscoroutinefunction(check) else asyncio.to_thread(check)
        if await result:
            return
        if progress and time.monotonic() - told >= PROGRESS_SECONDS:
            told = time.monotonic()
            say(f"waiting for {what} ({told - started:.0f} s): {progress()}")
        await asyncio.sleep(pause)
    raise StackError(f"gave up after {limit:.0f} s waiting for {what}")


def healthy(stack: Stack, service: str) -> bool:
    try:
        state = stack.inspect(service)["State"]
    except (StackError, KeyError, IndexError, ValueError):
        return False
    return state.get("Running", False) and state.get("Health", {}).get("Status") == "healthy"


async def postgres_restart(drill: Drill) -> Window:
    """PostgreSQL stopped (a failover, a node lost) for ``postgres_down`` s, then started."""
    stack, down = drill.stack, drill.durations.postgres_down
    started = time.time()
    await asyncio.to_thread(stack.compose_run, "stop", "-t", "10", "postgres")
    say(f"postgres stopped; starting it again in {down:.0f} s")
    await asyncio.sleep(down)
    await asyncio.to_thread(stack.compose_run, "start", "postgres")
    await until(lambda: database.ready(stack), "PostgreSQL to answer")
    return Window("postgres-restart", started, time.time(), {"down_s": down})


async def kill_web_mid_broadcast(drill: Drill) -> Window:
    """The replica delivering a broadcast to ``big_broadcast_recipients`` connections is
    killed with SIGKILL (an OOM kill, a node lost) once its fan-out has begun; docker restarts
    it as the kubelet would, and the cron job resumes the broadcast after its lease.

    The broadcast a second pauses meanwhile: to every listener too, it would need more posts a
    second than the replicas may send together (BROADCAST_FRAMES_PER_SECOND), and queue up."""
    stack, stop = drill.stack, asyncio.Event()
    drill.ticking.clear()
    wanted = drill.durations.big_broadcast_recipients - len(drill.members)
    say(f"opening {wanted} listening connections for a broadcast to {len(drill.members) + wanted}")
    opened_at = time.monotonic()
    hubs = await asyncio.to_thread(listener_hubs, drill)
    listeners = drill.add_members("listener", max(0, wanted), pinging=False, stop=stop, hubs=hubs)
    # At 5 connects a second or more: each is a token, a handshake and a $connect, and each
    # hub's (one user's, from one address) are serialised by the admission's locks.
    await until(
        lambda: all(m.current for m in listeners),
        "the listeners to connect",
        pause=1.0,
        limit=WAIT_LIMIT + len(listeners) / 5,
        progress=lambda: _connecting(listeners),
    )
    say(f"{len(listeners)} listeners connected in {time.monotonic() - opened_at:.0f} s")
    # Looked up before the broadcast: the kill must follow the first checkpoint closely.
    hosts = {stack.container_id(r)[:12]: r for r in WEB_REPLICAS}
    pids = {r: stack.inspect(r)["State"]["Pid"] for r in WEB_REPLICAS}
    restarts = {r: stack.inspect(r)["RestartCount"] for r in WEB_REPLICAS}
    text = "big broadcast"
    started = time.time()  # the fault's window holds the whole fan-out
    drill.sent.append(await send_broadcast(drill.broadcaster, text))

    def begun() -> bool:
        rows = database.broadcasts(stack, text)
        finished = bool(rows) and rows[0].status in ("done", "failed")
        return finished or (bool(rows) and rows[0].status == "sending" and rows[0].sent > 0)

    await until(begun, "the big broadcast's fan-out to begin", pause=0.1)
    row = database.broadcasts(stack, text)[0]
    if row.status != "sending":
        raise StackError(
            f"the big broadcast was {row.status} before the kill: more recipients, or a lower "
            "DRILL_POSTS_PER_SECOND, make its fan-out last long enough"
        )
    victim = hosts.get(row.lease_owner.split(":", 1)[0])
    if victim is None:
        raise StackError(f"the big broadcast's deliverer {row.lease_owner!r} is no web replica")
    killed_at = time.time()
    os.kill(pids[victim], signal.SIGKILL)
    say(f"killed {victim} (SIGKILL) with {row.sent} of the broadcast's posts checkpointed")
    await until(
        lambda: stack.inspect(victim)["RestartCount"] > restarts[victim] and healthy(stack, victim),
        f"{victim} to be restarted and healthy",
    )
    ended = time.time()
    await until(
        lambda: database.broadcasts(stack, text)[0].status in ("done", "failed"),
        "the big broadcast to finish",
        pause=1.0,
    )
    final = database.broadcasts(stack, text)[0]
    await asyncio.sleep(LAST_FRAMES_SECONDS)
    stop.set()  # the listeners close; the broadcast's figures are read at the end
    drill.ticking.set()
    return Window(
        "kill-web-mid-broadcast",
        started,
        ended,
        {
            "recipients": len(drill.members),
            "killed": victim,
            "s_from_broadcast_to_kill": round(killed_at - started, 1),
            "checkpointed_before_kill": row.sent,
            "broadcast_status": final.status,
            "broadcast_claims": final.attempts,
            "s_from_kill_to_broadcast_done": round((final.finished_at or ended) - killed_at, 1),
        },
    )


def listener_hubs(drill: Drill) -> list[Hub]:
    """LISTENER_GROUPS hubs, each a user of its own (the demo's password) signed in from an
    address of its own: their connects run side by side, as many users' do, where one user's
    from one address are serialised by the admission's locks."""
    subnet = ipaddress.ip_network(drill.stack.env["DRILL_SUBNET"])
    addresses = add_source_addresses(subnet, LISTENER_GROUPS)
    names = [f"drill-listener-{n:02d}" for n in range(LISTENER_GROUPS)]
    database.add_users_like(drill.stack, drill.hub.browser.username, names)
    say(f"listeners: {LISTENER_GROUPS} users from {LISTENER_GROUPS} addresses ({addresses[0]}…)")
    # A token thread for every handshake in flight: fewer made the token requests the pace.
    tokens = ThreadPoolExecutor(LISTENER_GROUPS * LISTENER_OPENING)
    return [
        dataclasses.replace(
            drill.hub,
            browser=_signed_in(drill.hub.browser, name),
            source=address,
            tokens=tokens,
            opening=asyncio.Semaphore(LISTENER_OPENING),
        )
        for name, address in zip(names, addresses, strict=True)
    ]


def _signed_in(like: Browser, username: str, attempts: int = 3) -> Browser:
    """A listener signed in; tried again when the web tier is too busy to answer in time."""
    failure: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            return Browser(like.base_url, username, like.password)
        except requests.Timeout as error:
            failure = error
            if attempt < attempts:
                say(f"listener {username}: sign-in timed out; again ({attempt + 1}/{attempts})")
        except (requests.RequestException, RuntimeError) as error:
            failure = error
            break
    raise StackError(f"the listener {username} could not sign in: {failure}") from failure


def _connecting(members: list[Member]) -> str:
    refused = Counter(h.reason for m in members for h in m.handshakes if not h.ok)
    connected = sum(1 for m in members if m.current)
    return f"{connected} of {len(members)} connected; handshakes failed: {dict(refused)}"


async def emulator_restart(drill: Drill) -> Window:
    """The emulator (API Gateway) restarted: every client is dropped and reconnects with a
    fresh token and back-off."""
    started = time.time()
    await asyncio.to_thread(drill.stack.compose_run, "restart", "-t", "5", "emulator")
    await until(lambda: healthy(drill.stack, "emulator"), "the emulator to be healthy")
    return Window("emulator-restart", started, time.time())


async def management_api_faults(drill: Drill) -> Window:
    """The Management API answers 429 with Retry-After, then 500, then hangs, each for
    ``management_api_each_mode`` s, while broadcasts and replies go on."""
    each = drill.durations.management_api_each_mode
    started = time.time()
    async with aiohttp.ClientSession(trust_env=False) as http:
        for mode in ("throttle", "error", "hang", "none"):
            async with http.put(
                drill.emulator_url + FAULT_SWITCH, json={"mode": mode, "retry_after": 1}
            ) as answer:
                answer.raise_for_status()
            say(f"Management API fault: {mode}")
            if mode != "none":
                await asyncio.sleep(each)
    return Window("management-api-429-500-hang", started, time.time(), {"s_each_mode": each})


async def postgres_slowed(drill: Drill) -> Window:
    """A transaction holds an exclusive lock on the sessions table for ``postgres_lock`` s."""
    seconds = drill.durations.postgres_lock
    started = time.time()
    await asyncio.to_thread(database.hold_lock_on_sessions, drill.stack, seconds)
    return Window("postgres-lock-on-sessions", started, time.time(), {"lock_s": seconds})


FAULTS: dict[str, Callable[[Drill], Awaitable[Window]]] = {
    "postgres-restart": postgres_restart,
    "kill-web-mid-broadcast": kill_web_mid_broadcast,
    "emulator-restart": emulator_restart,
    "management-api": management_api_faults,
    "postgres-lock": postgres_slowed,
}
