"""Groups and permissions come from the data migration, not from hand work."""

from django.contrib.auth.models import Group

from core.roles import OPERATOR_PERMISSIONS, OPERATORS, SUPERVISOR_PERMISSIONS, SUPERVISORS


def codes(group):
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_created_both_groups_with_their_permissions(db):
    assert codes(Group.objects.get(name=OPERATORS)) == set(OPERATOR_PERMISSIONS)
    assert codes(Group.objects.get(name=SUPERVISORS)) == set(SUPERVISOR_PERMISSIONS)


def test_an_operator_may_call_but_not_supervise(operator):
    assert operator.has_perm("calls.make_calls")
    assert not operator.has_perm("calls.view_dashboard")
    assert not operator.has_perm("companies.reopen_company")


def test_a_supervisor_may_do_everything_an_operator_may_and_more(supervisor):
    for permission in SUPERVISOR_PERMISSIONS:
        assert supervisor.has_perm(permission)
