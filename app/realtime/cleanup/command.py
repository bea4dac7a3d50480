"""Until the cleanup commands and realtime.broadcasts' deliver_broadcasts subclass
observability.summary's SummaryCommand: then delete this module."""

from observability.summary import SummaryCommand as CleanupCommand

__all__ = ["CleanupCommand"]
