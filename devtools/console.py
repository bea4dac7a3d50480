"""The step line every host-side tool prints: ``==> what it is doing``, as make's recipes echo
it, so one run of `make …` reads as one log whichever program wrote each line."""

import sys
from typing import TextIO


def say(message: str, stream: TextIO | None = None) -> None:
    """One step line, flushed at once: it shows before a slow step starts, not after.
    ``stream`` is stdout unless a failure goes to stderr."""
    print(f"==> {message}", file=stream or sys.stdout, flush=True)
