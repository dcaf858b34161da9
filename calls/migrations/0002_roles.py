"""Create the groups « Opérateurs » and « Superviseurs » with their permissions.

The lists are written out here (not imported) so this migration means the same thing forever;
later changes to a role get a migration of their own.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = [
    "calls.make_calls",
]

SUPERVISOR_PERMISSIONS = OPERATOR_PERMISSIONS + [
    "calls.view_all_recordings",
    "calls.view_dashboard",
    "calls.export_calls",
    "calls.view_callrecord",
    "calls.view_recording",
    "companies.view_company",
    "companies.change_company",
    "companies.release_company",
    "companies.reopen_company",
    "companies.view_campaign",
    "companies.add_campaign",
    "companies.change_campaign",
    "companies.view_importbatch",
    "companies.add_importbatch",
]

ROLES = {"Opérateurs": OPERATOR_PERMISSIONS, "Superviseurs": SUPERVISOR_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them exist now.
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


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("companies", "0001_initial"),
        ("calls", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
