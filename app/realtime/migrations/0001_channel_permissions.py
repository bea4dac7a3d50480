from django.db import migrations


def create_channel_permissions(apps, schema_editor):
    from realtime.channels import sync_channel_permissions

    sync_channel_permissions(apps.get_model("django_aws_api_gateway_websockets", "ChannelPermission"))


class Migration(migrations.Migration):
    dependencies = [
        ("django_aws_api_gateway_websockets", "0015_alter_apigateway_provisioning_status"),
    ]

    operations = [
        migrations.RunPython(create_channel_permissions, migrations.RunPython.noop),
    ]
