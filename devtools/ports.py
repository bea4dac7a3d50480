"""A free TCP port on loopback, for a child process the caller is about to start."""

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now. Another process may take it before ours binds it; on
    a shared machine that is rare enough for tests and drills, which then fail loudly."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
