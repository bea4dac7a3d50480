from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The example feature: channels to join and leave, ping, and broadcasts to a channel."""

    name = "features.chat"
    label = "chat"

    def ready(self) -> None:
        from features.chat import channels, handlers  # noqa: F401 - they declare and register
