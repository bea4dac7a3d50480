from django.apps import AppConfig


class SmoketestConfig(AppConfig):
    """The deployment guide's smoke test, step by step (``manage.py smoke_test``)."""

    name = "smoketest"

    def ready(self) -> None:
        from smoketest import channels  # noqa: F401 - declares the smoke test's channel
