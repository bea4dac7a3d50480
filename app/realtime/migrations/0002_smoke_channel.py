from django.db import migrations


def sync_channels(apps, schema_editor):
    from realtime.channels import sync_channel_permissions

    sync_channel_permissions(apps.get_model("django_aws_api_gateway_websockets", "ChannelPermission"))


class Migration(migrations.Migration):
    dependencies = [("realtime", "0001_channel_permissions")]

    operations = [migrations.RunPython(sync_channels, migrations.RunPython.noop)]
