"""Drills on the compose stack, each in its own compose project, with real WebSocket clients:
`drill.bluegreen` (make bluegreen-drill, docs/blue-green.md) and `drill.chaos`
(make chaos-drill, docs/reliability.md). Shared: the stack, the clients."""
