from django.apps import AppConfig


class GatewayMonitoringConfig(AppConfig):
    name = "gateway_monitoring"
    verbose_name = "API Gateway monitoring (CloudWatch)"
