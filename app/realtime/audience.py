"""Who may receive a channel's frames now: the channel's rule, applied at fan-out time.

`$connect` and `join` check the rule once, but a connection lives up to two hours. A user
removed from staff, deactivated or stripped of a permission must stop receiving a restricted
channel at once, and receive it again when the right comes back; so the fan-out asks the
database who passes the rule (``ChannelPermission.allows``, as one filter) for every batch,
instead of trusting the check made at connect. Closing sessions on every user change would
need signals on each way rights change (groups, permissions, staff, superuser, deactivation)
and would still miss direct database edits.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django_aws_api_gateway_websockets.models import ChannelPermission

from realtime import admission

Access = ChannelPermission.Access
# A filter no session passes.
NOBODY = Q(pk__in=[])


def receivers(channel_name: str) -> Q:
    """A ``WebSocketSession`` filter: the sessions whose user passes the channel's rule now.

    An unlisted channel has no receivers (the view refuses unlisted channels). Inactive users
    receive nothing, in any channel; superusers pass every rule, as in ``allows``.
    """
    channel = admission.channel_permission(channel_name)
    if channel is None:
        return NOBODY
    if channel.access == Access.ALLOW_ALL:
        return Q(user__isnull=True) | Q(user__is_active=True)
    active = Q(user__is_active=True)
    if channel.access == Access.SUPERUSER_ONLY:
        return active & Q(user__is_superuser=True)
    if channel.access == Access.STAFF_ONLY:
        return active & (Q(user__is_superuser=True) | Q(user__is_staff=True))
    if channel.access == Access.PERMISSIONS:
        return active & (Q(user__is_superuser=True) | Q(user__in=_users_passing_a_rule(channel)))
    return NOBODY


def _users_passing_a_rule(channel: ChannelPermission):
    """Users holding every permission of at least one rule, directly or through a group
    (what ``user.has_perms`` asks of Django's ModelBackend). An empty rule admits nobody."""
    user_model = get_user_model()
    passing = Q(pk__in=[])
    for rule in channel.rules.prefetch_related("permissions"):
        permissions = list(rule.permissions.all())
        if not permissions:
            continue
        holders = user_model.objects.all()
        for permission in permissions:
            # One filter() per permission: each joins anew, so the user needs them all.
            holders = holders.filter(
                Q(user_permissions=permission) | Q(groups__permissions=permission)
            )
        passing |= Q(pk__in=holders.values("pk"))
    return user_model.objects.filter(passing).values("pk")
