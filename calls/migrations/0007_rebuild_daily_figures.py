from django.db import migrations


def rebuild(apps, schema_editor):
    """Count the calls submitted before the dashboard kept its figures."""
    from calls.daily import rebuild

    rebuild(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0006_daily_figures"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
