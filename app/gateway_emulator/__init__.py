"""A local stand-in for AWS API Gateway's WebSocket API, as django-aws-api-gateway-websockets
configures it: clients connect here, Django receives the HTTP integration calls API Gateway
would make, and answers through a local Management API. docs/emulator.md describes it.

It never imports Django: it talks to the web process only over HTTP, like the real gateway.
"""
