from django.apps import AppConfig


class BaselineConfig(AppConfig):
    """What the real-time path is compared with, in the same process and run."""

    name = "bench.baseline"
    label = "bench_baseline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bench.baseline import management_endpoint

        management_endpoint.install()
