"""Groups and permissions come from the data migration, not from hand work: what each role may
do is checked on groups the migration itself creates, against abilities spelt out here."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from core.roles import OPERATORS, ROLE_PERMISSIONS, SUPERVISORS
from tests.conftest import make_user

MIGRATION = importlib.import_module("calls.migrations.0002_roles")
# Later changes of a role, each a migration of its own: (app, name, module).
LATER = [
    ("quality", "0002_supervisor_permissions"),
    ("privacy", "0002_supervisor_permissions"),
    ("calls", "0010_supervisors_do_not_call"),
]
LATER_MIGRATIONS = [importlib.import_module(f"{app}.migrations.{name}") for app, name in LATER]

SUPERVISING = [
    "calls.view_dashboard",
    "calls.view_all_recordings",
    "calls.export_calls",
    "companies.view_company",
    "companies.release_company",
    "companies.reopen_company",
    "companies.add_campaign",
    "companies.change_campaign",
    "companies.add_importbatch",
    "quality.review_calls",
    "quality.correct_calls",
    "quality.change_reviewpolicy",
    "calls.view_listen",
    "companies.erase_company",
    "companies.view_donotcallentry",
    "companies.add_donotcallentry",
    "companies.change_donotcallentry",
]
NOBODY_BUT_ADMINS = [
    "calls.delete_callrecord",
    "calls.delete_recording",
    "calls.change_callrecord",
    "companies.delete_company",
    "companies.delete_donotcallentry",  # a removal is kept in the list's history
    "auth.change_user",
]


@pytest.fixture
def groups_from_the_migration(db):
    """Run the migration's own function (with the models as they were then) on empty groups."""
    Group.objects.filter(name__in=[OPERATORS, SUPERVISORS]).delete()
    loader = MigrationLoader(connection)
    MIGRATION.create_roles(loader.project_state(("calls", "0002_roles")).apps, None)
    for (app, name), migration in zip(LATER, LATER_MIGRATIONS, strict=True):
        migration.add_permissions(loader.project_state((app, name)).apps, None)


def test_the_code_and_the_migrations_define_the_same_roles():
    # core.roles serves code and tests; a change of role needs a migration of its own.
    from_migrations = {name: set(codes) for name, codes in MIGRATION.ROLES.items()}
    for migration in LATER_MIGRATIONS:
        for name, codes in migration.ROLES.items():
            from_migrations[name] |= set(codes)
    assert {name: set(codes) for name, codes in ROLE_PERMISSIONS.items()} == from_migrations


def test_an_operator_may_call_but_not_supervise(groups_from_the_migration):
    operator = make_user("o", OPERATORS)
    assert operator.has_perm("calls.make_calls")
    for permission in SUPERVISING + NOBODY_BUT_ADMINS:
        assert not operator.has_perm(permission), permission


def test_a_supervisor_may_call_and_supervise_but_never_delete_history(groups_from_the_migration):
    supervisor = make_user("s", SUPERVISORS)
    for permission in ["calls.make_calls", *SUPERVISING]:
        assert supervisor.has_perm(permission), permission
    for permission in NOBODY_BUT_ADMINS:
        assert not supervisor.has_perm(permission), permission


def test_a_user_in_no_group_may_do_nothing(groups_from_the_migration):
    nobody = make_user("n")
    for permission in ["calls.make_calls", *SUPERVISING]:
        assert not nobody.has_perm(permission)
