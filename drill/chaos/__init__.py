"""The chaos drill: faults injected into a running stack cost seconds, never lost broadcasts."""
