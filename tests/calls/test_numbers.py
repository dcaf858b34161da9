"""Several numbers in the call form: every number as a dial link with its last outcome, the
number called recorded with the call, and a dead number moving the company to its next one."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.models import CallRecord
from companies.models import Company, CompanyPhone, PhoneLabel, Status
from tests.factories import CallFactory

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def two_numbers(make_company):
    company = make_company(name="Ets Deux Lignes", phone="677 00 11 22", validity_score=90)
    company.merge_numbers([("699 00 11 22", PhoneLabel.MOBILE)])
    return company


@pytest.fixture
def calling(client, operator, two_numbers):
    client.force_login(operator)
    assert Company.objects.claim(two_numbers, operator)
    return two_numbers


def submit(client, company, **fields):
    return client.post(
        reverse("calls:submit", args=[company.pk]), {"without_recording": "on", **fields}
    )


def number(company, position):
    return company.phones.get(position=position)


def test_the_form_lists_every_number_as_a_dial_link_with_its_last_outcome(client, calling):
    standard, mobile = calling.phones.all()
    mobile.record_call("3.14", mobile.created_at)
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    content = text(response)
    assert 'href="tel:+237677001122"' in content and 'href="tel:+237699001122"' in content
    assert "Jamais appelé" in content
    assert "Dernier résultat : 3.14 Répondeur" in content
    assert content.count('name="phone"') == 2  # a choice to make between the two


def test_the_dial_link_follows_the_dial_link_template(client, calling, settings):
    settings.DIAL_LINK_TEMPLATE = "sip:{e164}@pbx.example"
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    assert 'href="sip:+237699001122@pbx.example"' in response.text
    assert 'href="tel:' not in response.text


def test_with_several_numbers_the_operator_must_say_which_one_was_called(client, calling):
    response = submit(client, calling, status_numero="no_answer")
    assert response.status_code == 422
    assert "Indiquez le numéro que vous avez appelé" in text(response)
    calling.refresh_from_db()
    assert calling.status == Status.IN_PROGRESS and not CallRecord.objects.submitted().exists()


def test_a_number_of_another_company_is_refused(client, calling, make_company):
    other = make_company(phone="655 44 33 22")
    response = submit(client, calling, status_numero="invalid", phone=other.phones.get().pk)
    assert response.status_code == 422
    assert "n'est pas un numéro de l'entreprise que vous appelez" in text(response)
    assert not other.phones.get().is_dead
    assert not CallRecord.objects.submitted().exists()
    # Nor is it kept in a draft.
    client.post(
        reverse("calls:fill", args=[calling.pk]),
        {"without_recording": "on", "phone": other.phones.get().pk},
        headers=HTMX,
    )
    assert CallRecord.objects.get().phone is None


def test_the_draft_keeps_the_number_chosen(client, calling):
    mobile = number(calling, 1)
    client.post(
        reverse("calls:fill", args=[calling.pk]),
        {"without_recording": "on", "phone": mobile.pk},
        headers=HTMX,
    )
    assert CallRecord.objects.get().phone == mobile
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    assert f'value="{mobile.pk}" autocomplete="off" checked' in response.text


def test_a_single_number_needs_no_choice(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    response = client.get(reverse("calls:fill", args=[company.pk]))
    assert 'name="phone"' not in response.text and "Numéro appelé" in response.text
    assert submit(client, company, status_numero="no_answer").status_code == 302
    assert CallRecord.objects.get().phone == company.phones.get()


@pytest.mark.parametrize(
    "fields",
    [{"status_numero": "invalid"}, {"status_numero": "answered", "call_status": "bad_number"}],
)
def test_a_dead_number_moves_the_company_to_its_next_number(client, calling, fields):
    standard = number(calling, 0)
    assert submit(client, calling, phone=standard.pk, **fields).status_code == 302

    call = CallRecord.objects.get()
    assert call.phone == standard and call.disposition == "4.30"
    standard.refresh_from_db()
    assert standard.is_dead and standard.last_disposition == "4.30"
    calling.refresh_from_db()
    assert calling.status == Status.PENDING and calling.next_call_at is None
    assert calling.attempts == 1 and calling.disposition == ""  # not non-working: not yet known
    assert calling.locked_by is None

    # It comes back at once, with only its next number to call.
    assert Company.objects.claim_next(call.operator) == calling
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    content = text(response)
    assert "hors service" in content
    assert (
        'name="phone"' not in content and "Numéro appelé</span> : Mobile · 699 00 11 22" in content
    )


def test_the_company_keeps_the_code_of_its_previous_call_when_a_number_dies(client, calling):
    calling.disposition = "3.13"
    calling.save(update_fields=["disposition"])
    submit(client, calling, phone=number(calling, 1).pk, status_numero="invalid")
    calling.refresh_from_db()
    assert calling.status == Status.PENDING and calling.disposition == "3.13"


def test_the_company_is_non_working_only_when_every_number_is_dead(client, calling, operator):
    submit(client, calling, phone=number(calling, 0).pk, status_numero="invalid")
    Company.objects.claim(calling, operator)
    submit(client, calling, status_numero="answered", call_status="bad_number")

    calling.refresh_from_db()
    assert calling.status == Status.DONE and calling.disposition == "4.30"
    assert calling.attempts == 2
    assert [n.is_dead for n in calling.phones.all()] == [True, True]
    assert [c.phone.position for c in CallRecord.objects.order_by("id")] == [0, 1]


def test_a_number_that_answers_again_is_alive(client, calling, operator):
    standard, mobile = calling.phones.all()
    for phone in (standard, mobile):
        phone.record_call("4.30", phone.created_at)
    # A supervisor reopened the company: every number is offered again.
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    assert text(response).count('name="phone"') == 2
    submit(client, calling, phone=mobile.pk, status_numero="no_answer")
    mobile.refresh_from_db()
    assert not mobile.is_dead and mobile.last_disposition == "3.13"
    calling.refresh_from_db()
    assert calling.status == Status.PENDING


def test_a_dead_number_is_not_offered_while_another_lives(client, calling):
    standard, mobile = calling.phones.all()
    standard.record_call("4.30", standard.created_at)
    response = submit(client, calling, phone=standard.pk, status_numero="no_answer")
    assert response.status_code == 422  # a forged choice of the dead one
    assert not CallRecord.objects.submitted().exists()
    response = submit(client, calling, status_numero="no_answer")
    assert response.status_code == 302  # one live number left: it is the one called
    assert CallRecord.objects.get().phone == mobile


def test_a_call_that_names_no_number_kills_none(company, operator):
    """Calls recorded before several numbers existed, or written by other code paths."""
    Company.objects.claim(company, operator)
    call = CallFactory(company=company, operator=operator, outcome="invalid")
    call.submit(operator)
    company.refresh_from_db()
    assert company.status == Status.DONE and company.disposition == "4.30"
    assert not company.phones.get().is_dead


def test_the_form_shows_the_earlier_calls_newest_first(client, calling, operator2):
    standard, mobile = calling.phones.all()
    CallFactory(
        company=calling,
        operator=operator2,
        outcome="no_answer",
        submitted=True,
        phone=standard,
        notes="Sonne dans le vide",
    )
    CallFactory(
        company=calling,
        operator=operator2,
        outcome="callback",
        submitted=True,
        phone=mobile,
        notes="Rappeler M. Kamga après 15 h",
    )
    CallFactory(company=calling, operator=operator2, outcome="refused", notes="brouillon caché")
    response = client.get(reverse("calls:fill", args=[calling.pk]))
    content = text(response)
    history = content[content.index("Appels précédents") :]
    assert history.index("Rappeler M. Kamga") < history.index("Sonne dans le vide")
    assert "Paul Eto" in history and "Décroche · Rappel" in history
    assert "699 00 11 22" in history and "Pas de réponse" in history
    assert "brouillon caché" not in content  # a draft is not an earlier call


def test_the_company_page_says_which_number_each_call_used(client, supervisor, two_numbers):
    CallFactory(
        company=two_numbers, outcome="voicemail", submitted=True, phone=number(two_numbers, 1)
    )
    client.force_login(supervisor)
    content = text(client.get(reverse("companies:company", args=[two_numbers.pk])))
    assert "699 00 11 22 <span" in content.split("Historique des appels")[1]


@pytest.mark.parametrize("written", ["one by one", "in bulk"])
def test_opening_the_call_form_writes_no_number(client, operator, campaign, written):
    """A GET never writes: a company's numbers come from whoever wrote the company (its
    save(), the import, the migrations), never from opening its call form, even for a company
    written in bulk without them."""
    if written == "one by one":
        company = Company.objects.create(campaign=campaign, name="Ets", phone="677 00 00 98")
    else:
        (company,) = Company.objects.bulk_create(
            [Company(campaign=campaign, name="Sans numéro", phone="677 00 00 99")]
        )
    numbers = CompanyPhone.objects.count()
    client.force_login(operator)
    assert Company.objects.claim(company, operator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("calls:fill", args=[company.pk]))
        fragment = client.get(reverse("calls:fill", args=[company.pk]), headers=HTMX)

    assert response.status_code == fragment.status_code == 200
    assert CompanyPhone.objects.count() == numbers
    table = CompanyPhone._meta.db_table
    assert not [q["sql"] for q in queries if table in q["sql"] and "SELECT" not in q["sql"][:8]]
