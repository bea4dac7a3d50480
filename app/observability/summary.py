"""The one JSON line every management command ends with, in one shape:

    {"timestamp": "2026-…Z", "level": "info", "event": "command.summary",
     "command": "sweep_stale_sessions", "request_id": "…", "ok": true,
     "stale_sessions": 3, "connected_sessions": 120, "seconds": 0.042}

Between ``command`` and ``seconds`` come the command's own figures. Schedulers, `helm test`,
the cluster test and the smoke test read it; docs/operations.md says what each command's
figures mean. A command subclasses ``SummaryCommand`` and returns its figures from ``run``.
"""

import json
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

import structlog
from django.core.management.base import BaseCommand

SUMMARY_EVENT = "command.summary"

Figures = Mapping[str, int | float | str | bool]


def write_summary(
    out: TextIO, command: str, ok: bool, figures: Figures, seconds: float, request_id: str
) -> None:
    """One line, always JSON whatever LOG_FORMAT says: the programs above parse it."""
    summary = {
        "timestamp": datetime.now(UTC).isoformat(),
        "level": "info" if ok else "error",
        "event": SUMMARY_EVENT,
        "command": command,
        "request_id": request_id,
        "ok": ok,
        **figures,
        "seconds": round(seconds, 3),
    }
    out.write(json.dumps(summary) + "\n")


class SummaryCommand(BaseCommand):
    """A management command that ends with its summary line. Every log line it writes
    carries its ``command`` and a ``request_id`` of its own, as a request's lines do."""

    def run(self, **options) -> Figures:
        """Do the work; the figures of the summary line."""
        raise NotImplementedError

    def succeeded(self, figures: Figures) -> bool:
        """Whether the run did its job (``ok``); a failed one exits 1 after its summary."""
        return True

    def handle(self, *args, **options) -> None:
        command = self.__module__.rsplit(".", 1)[-1]
        request_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, command=command)
        started = time.monotonic()
        try:
            figures = self.run(**options)
            ok = self.succeeded(figures)
            write_summary(self.stdout, command, ok, figures, time.monotonic() - started, request_id)
        finally:
            structlog.contextvars.clear_contextvars()
        if not ok:
            sys.exit(1)
