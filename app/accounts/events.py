"""Sign-in outcomes as named log events (docs/operations.md lists them)."""

import structlog
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

log = structlog.get_logger(__name__)


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **_kwargs) -> None:
    log.warning("auth.login.failed", username=str(credentials.get("username", ""))[:150])


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **_kwargs) -> None:
    log.warning("auth.login.locked_out", username=str(username or "")[:150])
