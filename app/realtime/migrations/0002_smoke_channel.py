from django.db import migrations


class Migration(migrations.Migration):
    """Once created the smoke test's channel row; see 0001."""

    dependencies = [("realtime", "0001_channel_permissions")]

    operations = []
