"""The example feature's channels. A channel exists only if a feature declares it; the
layer keeps its ChannelPermission row in step after every migrate."""

from realtime import api

api.channel("lobby", api.Access.ALLOW_ALL, "Everyone who is signed in")
api.channel(
    "announcements", api.Access.ALLOW_ALL, "Read-only for most; broadcasts need a permission"
)
api.channel("staff", api.Access.STAFF_ONLY, "Staff members only")
