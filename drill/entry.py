"""What every drill prints, and how it stops."""

import signal
import sys
import time


def say(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


def stop_on_sigterm() -> None:
    """A CI timeout sends SIGTERM: raise, so that `finally` still removes the stack."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
