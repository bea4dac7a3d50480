from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The example real-time feature: API Gateway callbacks, handlers, channel rules."""

    name = "realtime"

    def ready(self) -> None:
        from realtime.management_endpoint import install_management_endpoint_redirect

        install_management_endpoint_redirect()
