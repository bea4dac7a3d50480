"""Round-robin over the upstream's addresses, and route selection on the frame's action."""

import asyncio

import pytest
from yarl import URL

from gateway_emulator.config import EmulatorConfig, Upstream
from gateway_emulator.connections import Connection
from gateway_emulator.integration import Integration, new_session
from gateway_emulator.routing import DEFAULT_ROUTE, select_route
from gateway_emulator.upstream import UpstreamPool


def addresses_in_turn(answers: list[list[str] | OSError], calls: int, refresh: float) -> list[str]:
    """The hosts of ``calls`` integration URLs, with the name resolving to ``answers``."""
    remaining = list(answers)

    async def resolve(host: str, port: int) -> list[str]:
        answer = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(answer, OSError):
            raise answer
        return answer

    async def run() -> list[str]:
        pool = UpstreamPool(lambda: (Upstream("web", 8000),), refresh, resolve)
        url = URL("http://localhost:8000/ws/default")
        rewritten = [await pool.url_for(url) for _ in range(calls)]
        assert {(u.scheme, u.port, u.path) for u in rewritten} == {("http", 8000, "/ws/default")}
        return [str(u.host) for u in rewritten]

    return asyncio.run(run())


def test_each_route_rotates_over_the_replicas_whatever_comes_between():
    """A client's $connect, a ping, a broadcast and its $disconnect, twice: with one turn for
    every call, both $connects went to the same replica of two (a smoke test's counts showed
    one replica with no $connect)."""

    async def resolve(host: str, port: int) -> list[str]:
        return ["10.0.0.2", "10.0.0.3"]

    async def run() -> list[str]:
        pool = UpstreamPool(lambda: (Upstream("web", 8000),), 60, resolve)
        hosts = []
        for _ in range(2):
            for route in ("connect", "default", "default", "disconnect"):
                url = await pool.url_for(URL(f"http://localhost:8000/ws/{route}"))
                hosts.append((route, str(url.host)))
        return [host for route, host in hosts if route == "connect"]

    assert sorted(asyncio.run(run())) == ["10.0.0.2", "10.0.0.3"]


def test_calls_rotate_over_every_replica():
    hosts = addresses_in_turn([["10.0.0.2", "10.0.0.3", "10.0.0.4"]], calls=6, refresh=60)
    assert sorted(hosts) == sorted(["10.0.0.2", "10.0.0.3", "10.0.0.4"] * 2)
    assert hosts[:3] == hosts[3:]


def test_the_name_is_resolved_again_so_new_replicas_get_calls():
    hosts = addresses_in_turn([["10.0.0.2"], ["10.0.0.2", "10.0.0.3"]], calls=4, refresh=0)
    assert hosts[0] == "10.0.0.2" and "10.0.0.3" in hosts[1:]


def test_a_failed_lookup_keeps_the_known_replicas():
    hosts = addresses_in_turn([["10.0.0.2"], OSError("no DNS")], calls=3, refresh=0)
    assert hosts == ["10.0.0.2"] * 3


def test_several_upstreams_share_the_calls():
    async def resolve(host: str, port: int) -> list[str]:
        return {"blue": ["10.0.0.2"], "green": ["10.0.1.2", "10.0.1.3"]}[host]

    async def run() -> list[str]:
        pool = UpstreamPool(lambda: (Upstream("blue", 8000), Upstream("green", 9000)), 60, resolve)
        return [str((await pool.url_for(URL("http://localhost/ws/x"))).origin()) for _ in range(3)]

    assert sorted(asyncio.run(run())) == [
        "http://10.0.0.2:8000",
        "http://10.0.1.2:9000",
        "http://10.0.1.3:9000",
    ]


def test_rewriting_the_upstream_file_moves_the_traffic(tmp_path):
    """The blue/green switch: the file names the active color."""
    active = tmp_path / "active-upstream"
    active.write_text("127.0.0.1:8000")
    config = EmulatorConfig(upstream_file=str(active), upstream_refresh=0)

    async def run() -> list[int | None]:
        pool = UpstreamPool.from_config(config)
        url = URL("http://localhost:8000/ws/default")
        before = (await pool.url_for(url)).port
        active.write_text("127.0.0.1:9000\n")
        after = (await pool.url_for(url)).port
        active.write_text("not an upstream")  # half-written: keep the last good list
        kept = (await pool.url_for(url)).port
        return [before, after, kept]

    assert asyncio.run(run()) == [8000, 9000, 9000]


def test_a_name_that_never_resolves_fails_the_call():
    with pytest.raises(OSError, match="resolves to no address"):
        addresses_in_turn([OSError("no DNS")], calls=1, refresh=60)


@pytest.mark.parametrize(
    ("frame", "route"),
    [
        (b'{"action": "chat", "text": "hi"}', "chat"),
        (b'{"action": "ping"}', DEFAULT_ROUTE),
        (b'{"action": ["chat"]}', DEFAULT_ROUTE),
        (b'["chat"]', DEFAULT_ROUTE),
        (b"chat", DEFAULT_ROUTE),
        (b"[" * 100_000, DEFAULT_ROUTE),
    ],
)
def test_route_selection_on_the_action(frame, route):
    assert select_route(frame, {"chat"}) == route


def test_a_stopped_replica_is_routed_around(stand_in):
    """One address refuses connections (a stopped replica): every frame still reaches Django."""

    async def two_replicas(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "127.0.0.2"]  # nothing listens on 127.0.0.2: refused

    async def run() -> None:
        config = EmulatorConfig(target_url=URL(f"http://localhost:{stand_in.port}/ws/"))
        pool = UpstreamPool(lambda: (Upstream("web", stand_in.port),), resolve=two_replicas)
        async with new_session(config.integration_timeout) as session:
            integration = Integration(config, session, pool)
            connection = Connection("Abc123Def456Gh0=", None, "203.0.113.9", "test", "http", 8001)
            for _ in range(4):
                await integration.message(connection, b'{"action": "ping"}')

    asyncio.run(run())
    assert len(stand_in.stand_in.calls_to("default")) == 4
