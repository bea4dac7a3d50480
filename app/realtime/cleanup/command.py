"""The shape every cleanup command shares: one JSON summary line with its counts."""

import json
import time
import uuid
from datetime import UTC, datetime

import structlog
from django.core.management.base import BaseCommand


class CleanupCommand(BaseCommand):
    """Subclasses implement ``run`` and return their counts."""

    def run(self, **options) -> dict[str, int]:
        raise NotImplementedError

    def handle(self, *args, **options) -> None:
        command = self.__module__.rsplit(".", 1)[-1]
        command_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=command_id, command=command)
        started = time.monotonic()
        counts = self.run(**options)
        summary = {
            "timestamp": datetime.now(UTC).isoformat(),
            "level": "info",
            "logger": "cleanup",
            "event": "cleanup.summary",
            "command": command,
            "request_id": command_id,
            **counts,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        # Always JSON, whatever LOG_FORMAT says: schedulers and the smoke test parse it.
        self.stdout.write(json.dumps(summary))
        structlog.contextvars.clear_contextvars()
