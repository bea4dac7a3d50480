"""One aiohttp application on one port: the WebSocket stage, the Management API, /health,
and the drills' fault switch (gateway_emulator.faults)."""

from aiohttp import web

from gateway_emulator import faults, management_api
from gateway_emulator.config import EmulatorConfig
from gateway_emulator.gateway import GATEWAY, Gateway
from gateway_emulator.integration import Integration, new_session
from gateway_emulator.upstream import UpstreamPool
from gateway_emulator.websocket_endpoint import handle_client

# At shutdown aiohttp waits this long for the connection handlers (and so their $disconnect
# calls), then the emulator waits as long again for messages still being relayed.
SHUTDOWN_GRACE_SECONDS = 10


async def build_app(config: EmulatorConfig) -> web.Application:
    """Async, so the HTTP client session is created inside the running loop."""
    session = new_session(config.integration_timeout)
    upstream = UpstreamPool.from_config(config)
    gateway = Gateway.from_config(config, Integration(config, session, upstream))

    app = web.Application()
    app[GATEWAY] = gateway
    app.router.add_get("/health", health)
    app.router.add_get("/{stage}", handle_client)
    management_api.add_routes(app.router)
    faults.add_routes(app)

    async def close_connections(_app: web.Application) -> None:
        # Clients see a close and Django gets its $disconnect calls, as if API Gateway
        # closed the connections; aiohttp then waits for the handlers to finish.
        gateway.close_all("shutdown")

    async def finish_calls(_app: web.Application) -> None:
        await gateway.tasks.drain(timeout=SHUTDOWN_GRACE_SECONDS)
        await session.close()

    app.on_shutdown.append(close_connections)
    app.on_cleanup.append(finish_calls)
    return app


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "connections": len(request.app[GATEWAY].registry)})
