"""Route selection on ``$request.body.action``, the expression the package configures."""

import json
from collections.abc import Container

DEFAULT_ROUTE = "$default"


def select_route(payload: bytes, route_keys: Container[str]) -> str:
    """The additional route whose key equals the frame's ``action``, else ``$default``."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):  # not JSON (or absurdly nested): API Gateway's $default
        return DEFAULT_ROUTE
    action = body.get("action") if isinstance(body, dict) else None
    return action if isinstance(action, str) and action in route_keys else DEFAULT_ROUTE
