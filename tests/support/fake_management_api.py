"""A local stand-in for the API Gateway Management API, for the paths moto does not cover.

moto accepts any connection id and never answers Gone; AWS answers a post to a closed
connection with HTTP 410 and ``x-amzn-ErrorType: GoneException``, which botocore turns
into a ``GoneException``. This server answers like AWS and records what it received.
"""

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

_PATH = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<connection_id>[^/?]+)$")


class FakeManagementApi:
    def __init__(self) -> None:
        self.open_connections: set[str] = set()
        self.frames: dict[str, list[dict]] = {}
        self.fail_with_500: set[str] = set()
        # The next N posts to each of these answer 500 InternalServerErrorException.
        self.fail_next: Counter[str] = Counter()
        # Posts that reached the server, answered or not, per connection.
        self.attempts: Counter[str] = Counter()
        # The first post to each of these answers 429 LimitExceededException with Retry-After.
        self.throttle_once: set[str] = set()
        # Every post waits this long before its answer (a slow, not a hung, API).
        self.delay_seconds = 0.0
        # Posts to these connections wait until ``release`` is set, like a slow gateway.
        self.slow_connections: set[str] = set()
        self.release = threading.Event()
        # When set, every post is refused with (status, x-amzn-ErrorType, message), as AWS
        # refuses a post it does not authorise: 403 ForbiddenException, AccessDeniedException.
        self.refuse_with: tuple[int, str, str] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeManagementApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, connection_id: str) -> list[dict]:
        with self._lock:
            return list(self.frames.get(connection_id, []))

    def _record(self, connection_id: str, body: bytes) -> None:
        with self._lock:
            self.frames.setdefault(connection_id, []).append(json.loads(body))

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _answer(
                self,
                status: int,
                body: dict,
                error_type: str | None = None,
                retry_after: str | None = None,
            ) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                match = _PATH.match(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not match:
                    self._answer(404, {"message": "Not Found"}, "NotFoundException")
                    return
                connection_id = unquote(match["connection_id"])
                if fake.refuse_with:
                    status, error_type, message = fake.refuse_with
                    self._answer(status, {"message": message}, error_type)
                    return
                with fake._lock:
                    fake.attempts[connection_id] += 1
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                if connection_id in fake.slow_connections:
                    fake.release.wait(timeout=30)
                with fake._lock:
                    throttled = connection_id in fake.throttle_once
                    fake.throttle_once.discard(connection_id)
                if throttled:
                    self._answer(
                        429, {"message": "Rate exceeded"}, "LimitExceededException", retry_after="0"
                    )
                    return
                with fake._lock:
                    failing = fake.fail_next[connection_id] > 0
                    fake.fail_next[connection_id] -= failing
                if failing or connection_id in fake.fail_with_500:
                    self._answer(500, {"message": "Internal"}, "InternalServerErrorException")
                elif connection_id not in fake.open_connections:
                    self._answer(410, {"message": None}, "GoneException")
                else:
                    fake._record(connection_id, body)
                    self._answer(200, {})

        return Handler
