"""Supervisors keep the do-not-call list: they see it, add entries and remove them (a removal
is kept, with its reason). The lists are written out so this migration never changes meaning."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [
    "companies.view_donotcallentry",
    "companies.add_donotcallentry",
    "companies.change_donotcallentry",
]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Superviseurs")
    for code in PERMISSIONS:
        app_label, codename = code.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Superviseurs"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="companies",
                codename__in=[code.split(".")[1] for code in PERMISSIONS],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0003_dashboard_indexes"),
        ("companies", "0006_fieldwork_rules"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
