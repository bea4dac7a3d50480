"""gunicorn's access log as structured events.

gunicorn's own access log is a printf-style line; this logger class emits the same facts as
fields of one JSON event, with the request id the Django middleware set on the response.
"""

from typing import Any

import structlog
from gunicorn.glogging import Logger

from observability.redaction import redact_text

_access = structlog.get_logger("gunicorn.access")


class StructuredAccessLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        response_headers = {name.lower(): value for name, value in resp.headers}
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        _access.info(
            "http.request",
            method=environ.get("REQUEST_METHOD"),
            path=environ.get("PATH_INFO"),
            query=redact_text(environ.get("QUERY_STRING", "")),
            status=int(status),
            bytes=getattr(resp, "sent", None),
            duration_ms=round(request_time.total_seconds() * 1000, 2),
            remote_addr=environ.get("REMOTE_ADDR"),
            user_agent=environ.get("HTTP_USER_AGENT", "")[:256],
            request_id=response_headers.get("x-request-id"),
            connection_id=environ.get("HTTP_CONNECTIONID"),
        )
