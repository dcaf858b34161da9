"""`manage.py demo`: a demo campaign and accounts on an empty database, never in production."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from companies.models import Campaign, Company, CompanyPhone, ContactPerson


def run_demo():
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_creates_a_campaign_companies_and_accounts_whose_passwords_it_prints(db, settings):
    settings.DEBUG = True
    output = run_demo()
    assert Campaign.objects.count() == 1
    assert Company.objects.count() == 50
    # Callable whatever the day and hour the demo is tried (real campaigns get calling hours).
    assert Campaign.objects.get().calendar.always_open()
    assert Company.objects.claimable().count() == 50
    assert Company.objects.exclude(phone_e164="").count() == 50
    # Every main number is in its company's list; some have a mobile or a named contact.
    assert CompanyPhone.objects.filter(position=0).count() == 50
    assert CompanyPhone.objects.filter(label="mobile").count() == 17
    assert ContactPerson.objects.count() == 12
    assert CompanyPhone.objects.filter(label="direct").count() == 12
    request = RequestFactory().post("/appels/acces/")
    for username in ("operateur1", "operateur2", "superviseur", "admin"):
        line = next(line for line in output.splitlines() if line.strip().startswith(username))
        password = line.split()[-1]
        assert authenticate(request, username=username, password=password) is not None
    User = get_user_model()
    assert User.objects.get(username="superviseur").has_perm("calls.view_dashboard")
    assert User.objects.get(username="operateur1").has_perm("calls.make_calls")
    assert User.objects.get(username="admin").is_superuser


def test_demo_is_idempotent(db, settings):
    settings.DEBUG = True
    run_demo()
    assert "rien à créer" in run_demo()
    assert Campaign.objects.count() == 1 and Company.objects.count() == 50


def test_demo_refuses_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG est désactivé"):
        run_demo()
    assert not get_user_model().objects.exists()
