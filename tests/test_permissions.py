"""Who may do what is read from the database at every request, with two plain statements
(core/permissions.py): a change an administrator makes takes effect at the user's next request,
on whatever worker or app server serves it, and the answer is Django's own."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.permissions import PermissionBackend
from core.roles import OPERATORS, SUPERVISORS
from tests.conftest import make_user


def permission(code: str) -> Permission:
    app_label, codename = code.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def fresh(user):
    """The user as the next request reads it (nothing kept from an earlier check)."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def accounts(roles):
    both = make_user("deux-roles", OPERATORS)
    both.groups.add(Group.objects.get(name=SUPERVISORS))
    direct = make_user("direct")
    direct.user_permissions.add(permission("calls.view_dashboard"))
    mixed = make_user("mixte", OPERATORS)
    mixed.user_permissions.add(permission("calls.make_calls"), permission("auth.view_user"))
    return [
        make_user("op", OPERATORS),
        make_user("sup", SUPERVISORS),
        both,
        direct,
        mixed,
        make_user("personne"),
        make_user("inactif", SUPERVISORS, is_active=False),
        make_user("admin", is_superuser=True, is_staff=True),
    ]


def test_it_reads_the_permissions_djangos_backend_reads(accounts):
    for user in accounts:
        ours = PermissionBackend().get_all_permissions(fresh(user))
        assert ours == ModelBackend().get_all_permissions(fresh(user)), user.username
    assert "calls.view_dashboard" in PermissionBackend().get_all_permissions(fresh(accounts[1]))
    assert PermissionBackend().get_all_permissions(fresh(accounts[5])) == set()


def test_it_reads_the_user_djangos_backend_reads(accounts):
    for user in accounts:
        ours, theirs = PermissionBackend().get_user(user.pk), ModelBackend().get_user(user.pk)
        if theirs is None:  # an inactive account is nobody
            assert ours is None, user.username
        else:
            assert ours == theirs
            assert [getattr(ours, f.attname) for f in get_user_model()._meta.concrete_fields] == [
                getattr(theirs, f.attname) for f in get_user_model()._meta.concrete_fields
            ]
    assert PermissionBackend().get_user(10**9) is None
    assert PermissionBackend().get_user(str(accounts[0].pk)) == accounts[0]  # the session's text


def test_a_permission_an_admin_removes_from_a_group_is_refused_at_the_next_request(
    client, operator, admin_user
):
    client.force_login(operator)
    assert client.get(reverse("calls:list")).status_code == 200
    group = Group.objects.get(name=OPERATORS)
    kept = group.permissions.exclude(codename="make_calls")
    admin = Client()
    admin.force_login(admin_user)

    response = admin.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": [p.pk for p in kept]},
    )

    assert response.status_code == 302
    assert client.get(reverse("calls:list")).status_code == 403
    group.permissions.add(permission("calls.make_calls"))
    assert client.get(reverse("calls:list")).status_code == 200


def test_a_user_taken_out_of_a_group_is_refused_at_the_next_request(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("calls:dashboard")).status_code == 200
    supervisor.groups.set([Group.objects.get(name=OPERATORS)])
    assert client.get(reverse("calls:dashboard")).status_code == 403
    assert client.get(reverse("calls:list")).status_code == 200


def test_a_permission_given_to_a_user_takes_effect_at_the_next_request(client, operator):
    client.force_login(operator)
    assert client.get(reverse("calls:dashboard")).status_code == 403
    operator.user_permissions.add(permission("calls.view_dashboard"))
    assert client.get(reverse("calls:dashboard")).status_code == 200


def test_an_account_made_inactive_is_signed_out_at_the_next_request(client, operator):
    client.force_login(operator)
    assert client.get(reverse("calls:list")).status_code == 200
    get_user_model().objects.filter(pk=operator.pk).update(is_active=False)
    response = client.get(reverse("calls:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def first_table(sql: str) -> str:
    return re.search(r'\bFROM "?(\w+)', sql).group(1)


def test_a_request_reads_its_session_user_and_permissions_in_three_statements(client, operator):
    client.force_login(operator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("calls:list")).status_code == 200
    tables = [first_table(q["sql"]) for q in queries if q["sql"].startswith("SELECT")]
    assert tables[:3] == ["django_session", "auth_user", "auth_permission"], tables
    assert sum(t in ("django_session", "auth_user", "auth_permission") for t in tables) == 3
