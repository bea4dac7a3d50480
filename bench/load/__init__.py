"""The asyncio load generator: signed-in browsers, WebSocket and HTTP clients, pacing."""
