from django.apps import AppConfig


class CleanupConfig(AppConfig):
    """The real-time layer's housekeeping: the CronJobs' commands that sweep stale sessions
    and delete spent tokens, rate-limit rows, budgets and old sessions. Its label stays
    ``cleanup``."""

    name = "realtime.cleanup"
    label = "cleanup"
