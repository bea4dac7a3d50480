from django.apps import AppConfig


class DoctorConfig(AppConfig):
    """The deployment guide's troubleshooting checklist as a command (``manage.py
    gateway_doctor``): AWS, the Django settings and the Management API, read-only."""

    name = "doctor"
