from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    """The real-time layer's durable fan-out: a broadcast row per frame for a channel,
    delivered after commit, outside the request. Its label stays ``broadcasts`` (its tables
    and migrations predate its place inside the layer)."""

    name = "realtime.broadcasts"
    label = "broadcasts"
