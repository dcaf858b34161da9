"""The two staff roles, as groups with permissions (created by calls/migrations/0002_roles.py;
later additions by a migration of their own, named beside them)."""

OPERATORS = "Opérateurs"
SUPERVISORS = "Superviseurs"

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
    # Quality control (quality/migrations/0002_supervisor_permissions.py)
    "quality.review_calls",
    "quality.correct_calls",
    "quality.change_reviewpolicy",
    "calls.view_listen",
    # Personal data (privacy/migrations/0002_supervisor_permissions.py)
    "companies.erase_company",
    # The do-not-call list (calls/migrations/0010_supervisors_do_not_call.py)
    "companies.view_donotcallentry",
    "companies.add_donotcallentry",
    "companies.change_donotcallentry",
]

ROLE_PERMISSIONS = {OPERATORS: OPERATOR_PERMISSIONS, SUPERVISORS: SUPERVISOR_PERMISSIONS}


def ensure_roles() -> None:
    """Create the groups with their permissions if missing (the data migration does this on a
    real database; tests that flush tables between runs call it to get them back)."""
    from django.contrib.auth.models import Group, Permission

    for group_name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
