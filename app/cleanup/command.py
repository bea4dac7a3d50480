"""Until realtime.broadcasts' deliver_broadcasts subclasses observability.summary's
SummaryCommand: then delete this module."""

from observability.summary import SummaryCommand as CleanupCommand

__all__ = ["CleanupCommand"]
