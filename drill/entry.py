"""How every drill starts and stops."""

import signal
import sys
from collections.abc import Callable
from typing import TypeVar

from devtools.console import say
from devtools.environment import BadVariable

Settings = TypeVar("Settings")


def run_drill(read_settings: Callable[[], Settings], run: Callable[[Settings], int]) -> int:
    """The drill's exit code. Its variables are read first: a wrong one ends it with exit 2
    before any container starts. A CI timeout sends SIGTERM, raised as SystemExit so that
    the drill's `finally` still removes the stack."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        settings = read_settings()
    except BadVariable as error:
        say(f"FAILED: {error}", sys.stderr)
        return 2
    return run(settings)
