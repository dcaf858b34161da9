"""Supervisors keep the do-not-call list: they see it, add entries and remove them (a removal
is kept, with its reason). The lists are written out so this migration never changes meaning."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPERVISOR_PERMISSIONS = [
    "companies.view_donotcallentry",
    "companies.add_donotcallentry",
    "companies.change_donotcallentry",
]
ROLES = {"Superviseurs": SUPERVISOR_PERMISSIONS}


def add_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ROLES):
        for code in ROLES[group.name]:
            app_label, codename = code.split(".")
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0009_recording_health_and_caps"),
        ("companies", "0012_fieldwork_rules"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
