"""Supervisors may erase a company's personal data on request (privacy/erasure.py). The list is
written out here so this migration means the same thing forever."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPERVISOR_PERMISSIONS = ["companies.erase_company"]
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
        ("calls", "0002_roles"),
        ("companies", "0010_campaign_retention_company_erasure"),
        ("privacy", "0001_pending_file_deletion"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
