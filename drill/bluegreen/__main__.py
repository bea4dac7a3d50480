"""The blue/green drill: `python -m drill.bluegreen` (make bluegreen-drill), docs/blue-green.md.

blue (the previous release, protocol v1) and green (the new one, v2) run side by side against
one PostgreSQL behind the gateway emulator. DRILL_CLIENTS clients (v1, like old JavaScript)
stay connected and ping continuously while the traffic moves blue -> green and back
(rollback), with a broadcast sent during each switch. Then it reports and checks: no dropped
connection, no lost message, no 5xx, each client answered by the new color after a switch and
never by the old one again, every broadcast reaching every client. Exit 0 only if all hold.
The stack is removed (compose down -v) at the end, also on failure or Ctrl-C.

`make bluegreen-drill` finds the private Docker engine (make engine); by hand, export
DOCKER_HOST first. Variables: DRILL_CLIENTS (50), DRILL_PHASE_SECONDS (10: each of the three
phases), DRILL_PING_PAUSE (0.25 s between a pong and the next ping), DRILL_REPORT (a JSON file
to write the figures to), APP_IMAGE, POSTGRES_IMAGE, DEMO_USERNAME, DEMO_PASSWORD,
DRILL_PROJECT.
"""

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.console import say
from devtools.environment import env_float, env_int, env_str
from devtools.ports import free_port
from drill.bluegreen.analysis import Switch, analyse
from drill.clients import Browser, Client, ping_until
from drill.entry import run_drill
from drill.findings import Findings
from drill.stack import Stack, StackError, postgres_image, project_name

COMPOSE_FILE = Path(__file__).with_name("docker-compose.yml")
UPSTREAM = {"blue": "web-blue:8000", "green": "web-green:8000"}

ANSWER_TIMEOUT = 15.0  # seconds a ping may wait for its pong before it counts as lost
UP_TIMEOUT = 150
# Beyond the three phases: connecting, the last pongs, closing. The drill must end by itself.
EXERCISE_MARGIN = 90


@dataclass(frozen=True)
class Settings:
    clients: int
    phase_seconds: float
    ping_pause: float
    username: str
    password: str
    report: str

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            clients=env_int("DRILL_CLIENTS", 50),
            phase_seconds=env_float("DRILL_PHASE_SECONDS", 10.0),
            ping_pause=env_float("DRILL_PING_PAUSE", 0.25),
            username=env_str("DEMO_USERNAME", "demo"),
            password=env_str("DEMO_PASSWORD", "demo-password-change-me"),
            report=env_str("DRILL_REPORT", ""),
        )


def make_stack() -> Stack:
    switch_dir = Path(tempfile.mkdtemp(prefix="bluegreen-drill-"))
    switch_dir.chmod(0o755)  # the emulator (uid 10001) reads the file through a bind mount
    web_port, ws_port = free_port(), free_port()
    env = {
        "DRILL_WEB_PORT": str(web_port),
        "DRILL_WS_PORT": str(ws_port),
        "DRILL_SWITCH_DIR": str(switch_dir),
        "POSTGRES_IMAGE": postgres_image(),
    }
    return Stack(project_name("bluegreen"), COMPOSE_FILE, env, scratch=switch_dir)


def switch_to(stack: Stack, color: str) -> float:
    """Point the emulator at one color, as flipping the Service's selector does; returns the
    wall-clock time the new file was in place. Written beside and renamed, so the emulator
    never reads half a file."""
    staging = stack.scratch / ".active.new"
    staging.write_text(UPSTREAM[color] + "\n")
    staging.chmod(0o644)
    staging.replace(stack.scratch / "active")
    return time.time()


async def open_clients(stack: Stack, settings: Settings) -> tuple[list[Client], Client]:
    web = f"http://localhost:{stack.env['DRILL_WEB_PORT']}"
    ws = f"ws://127.0.0.1:{stack.env['DRILL_WS_PORT']}/local"
    browser = Browser(web, settings.username, settings.password)
    cookie = browser.cookie_header()
    opened = [
        await Client.open(f"c{n:02d}", ws, browser.token(), cookie, web)
        for n in range(settings.clients + 1)
    ]
    return opened[:-1], opened[-1]


async def exercise(stack: Stack, settings: Settings) -> tuple[list, Client, list, list]:
    """Connect, ping through blue, switch to green, roll back to blue; broadcast during each
    switch. Returns the clients, the broadcaster, the switches and the broadcast texts."""
    clients, broadcaster = await open_clients(stack, settings)
    say(f"{len(clients)} clients and a broadcaster connected through the emulator (blue live)")
    readers = [asyncio.create_task(c.receive()) for c in (*clients, broadcaster)]
    stop = asyncio.Event()
    pingers = [
        asyncio.create_task(ping_until(c, stop, settings.ping_pause, ANSWER_TIMEOUT))
        for c in clients
    ]
    switches, texts = [], []
    for color in ("green", "blue"):
        await asyncio.sleep(settings.phase_seconds)
        switches.append(Switch(color, switch_to(stack, color)))
        say(f"switched the upstream file to {color}; broadcasting during the switch")
        texts.append(f"drill broadcast {len(texts) + 1} during the switch to {color}")
        await broadcaster.broadcast(texts[-1])
    await asyncio.sleep(settings.phase_seconds)
    stop.set()
    await asyncio.gather(*pingers)
    await asyncio.sleep(2)  # the last broadcast's fan-out, and any late frame
    for client in (*clients, broadcaster):
        await client.close()
    await asyncio.gather(*readers)
    return clients, broadcaster, switches, texts


def report(findings: Findings, settings: Settings) -> None:
    figures = findings.figures
    say(
        f"connections {figures['connections']}, dropped {figures['connections_dropped']}; "
        f"messages sent {figures['messages_sent']}, answered {figures['messages_answered']}, "
        f"lost {figures['messages_lost']}; answer median {figures['answer_ms_median']} ms, "
        f"max {figures['answer_ms_max']} ms"
    )
    say(
        f"5xx: blue {figures['http_5xx_blue']}, green {figures['http_5xx_green']}, "
        f"gateway {figures['gateway_5xx']}; integration errors {figures['integration_errors']}, "
        f"connects refused {figures['connects_refused']}"
    )
    for phase in figures["phases"]:
        say(f"phase {json.dumps(phase)}")
    for number, reach in enumerate(figures["broadcasts"], 1):
        say(f"broadcast {number}: {json.dumps(reach)}")
    if settings.report:
        Path(settings.report).write_text(json.dumps(figures, indent=2) + "\n")


def run(settings: Settings) -> int:
    stack = make_stack()
    say(f"project {stack.project}: postgres, migrate, web-blue (v1), web-green (v2), emulator")
    started = time.monotonic()
    limit = 3 * settings.phase_seconds + EXERCISE_MARGIN
    try:
        switch_to(stack, "blue")
        stack.up(UP_TIMEOUT)
        say(f"stack healthy after {time.monotonic() - started:.0f} s")
        clients, broadcaster, switches, texts = asyncio.run(
            asyncio.wait_for(exercise(stack, settings), limit)
        )
        logs = {name: stack.logs(f"web-{name}") for name in ("blue", "green")}
        logs["emulator"] = stack.logs("emulator")
        findings = analyse(clients, broadcaster, switches, texts, logs)
        report(findings, settings)
    except StackError as error:
        say(f"FAILED: {error}")
        return 1
    except TimeoutError:
        say(f"FAILED: the clients did not finish within {limit:.0f} s")
        return 1
    finally:
        stack.down()
        say(f"done in {time.monotonic() - started:.0f} s")
    return findings.verdict()


if __name__ == "__main__":
    sys.exit(run_drill(Settings.from_env, run))
