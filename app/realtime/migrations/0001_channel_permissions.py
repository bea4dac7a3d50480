from django.db import migrations


class Migration(migrations.Migration):
    """Once created the example's channel rows; they now come from the features' channel
    declarations, synced after every migrate (realtime/channels.py). Kept as the first node
    of this app's migration graph."""

    dependencies = [
        ("django_aws_api_gateway_websockets", "0015_alter_apigateway_provisioning_status"),
    ]

    operations = []
