"""The Django admin: every model listed, lock release and reopen actions, no call deletion."""

import pytest
from django.urls import reverse

from companies.models import Company, Status
from tests.factories import CallFactory


@pytest.mark.parametrize(
    "model",
    [
        "companies/campaign",
        "companies/company",
        "companies/importbatch",
        "companies/donotcallentry",
        "calls/callrecord",
        "calls/recording",
        "calls/recordingchunk",
    ],
)
def test_every_model_has_an_admin_list(client, admin_user, company, model):
    client.force_login(admin_user)
    assert client.get(f"/admin/{model}/").status_code == 200


def test_a_company_shows_its_numbers_people_and_notes_in_the_admin(
    client, admin_user, supervisor, company
):
    company.people.create(name="Mme Ndiaye", role="Directrice")
    company.notes.create(text="Demander la directrice", pinned_by=supervisor)
    client.force_login(admin_user)
    page = client.get(reverse("admin:companies_company_change", args=[company.pk])).text
    assert company.phone_e164 in page and "Mme Ndiaye" in page and "Demander la directrice" in page


def test_admin_releases_locks_and_reopens(client, admin_user, operator, make_company):
    locked, done = make_company(), make_company(status=Status.DONE)
    Company.objects.claim(locked, operator)
    client.force_login(admin_user)
    url = reverse("admin:companies_company_changelist")
    client.post(url, {"action": "release_locks", "_selected_action": [locked.pk]})
    client.post(url, {"action": "reopen_companies", "_selected_action": [done.pk]})
    locked.refresh_from_db()
    done.refresh_from_db()
    assert locked.locked_by is None and locked.status == Status.PENDING
    assert done.status == Status.PENDING


def test_calls_cannot_be_deleted_from_the_admin(client, admin_user, company):
    from calls.models import CallRecord

    call = CallFactory(company=company, operator=admin_user, outcome="invalid")
    client.force_login(admin_user)
    response = client.get(reverse("admin:calls_callrecord_delete", args=[call.pk]))
    assert response.status_code == 403
    assert CallRecord.objects.filter(pk=call.pk).exists()


def admin_company_form(campaign, phones=()) -> dict:
    """The admin's « add company » form as a person fills it, with inline numbers."""
    data = {
        "campaign": campaign.pk,
        "name": "Ets Ajoutée",
        "phone": "677 00 55 55",
        "status": "pending",
        "attempts": 0,
        "phones-TOTAL_FORMS": len(phones),
        "phones-INITIAL_FORMS": 0,
        "people-TOTAL_FORMS": 0,
        "people-INITIAL_FORMS": 0,
        "notes-TOTAL_FORMS": 0,
        "notes-INITIAL_FORMS": 0,
    }
    for index, (position, label, number) in enumerate(phones):
        data |= {
            f"phones-{index}-position": position,
            f"phones-{index}-label": label,
            f"phones-{index}-number": number,
        }
    return data


def test_a_company_added_in_the_admin_has_its_main_number_first(client, admin_user, campaign):
    client.force_login(admin_user)
    data = admin_company_form(campaign, [(1, "mobile", "699 00 55 55")])

    response = client.post(reverse("admin:companies_company_add"), data)

    assert response.status_code == 302
    company = Company.objects.get(name="Ets Ajoutée")
    assert list(company.phones.values_list("position", "label", "number", "e164")) == [
        (0, "standard", "677 00 55 55", "+237677005555"),
        (1, "mobile", "699 00 55 55", "+237699005555"),
    ]


def test_the_admin_refuses_the_main_number_twice_with_a_message(client, admin_user, campaign):
    client.force_login(admin_user)
    data = admin_company_form(campaign, [(1, "mobile", "+237 677 00 55 55")])

    response = client.post(reverse("admin:companies_company_add"), data)

    assert response.status_code == 200
    assert "Ce numéro est déjà dans la liste de l&#x27;entreprise." in response.text
    assert not Company.objects.filter(name="Ets Ajoutée").exists()


def test_the_do_not_call_list_is_read_only_in_the_admin(client, admin_user):
    """Entries are added and removed from their page, which keeps who, when and why."""
    from companies.models import DoNotCallEntry

    entry = DoNotCallEntry.objects.create(
        phone_e164="+237677000001", reason="Plainte", source="supervisor", created_by=admin_user
    )
    client.force_login(admin_user)
    assert client.get(reverse("admin:companies_donotcallentry_add")).status_code == 403
    assert (
        client.get(reverse("admin:companies_donotcallentry_delete", args=[entry.pk])).status_code
        == 403
    )


COUNTS = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]


def test_a_company_changed_in_the_admin_moves_its_interview_between_quota_cells(
    client, admin_user, campaign, make_company
):
    from django.forms.models import model_to_dict

    from companies.models import QuotaCell

    company = make_company(activity="cacao", disposition="1.1", status=Status.DONE)
    cacao = QuotaCell.objects.create(campaign=campaign, field1="activity", value1="cacao", target=5)
    cafe = QuotaCell.objects.create(campaign=campaign, field1="activity", value1="café", target=5)
    client.force_login(admin_user)
    data = {
        key: value
        for key, value in model_to_dict(company).items()
        if value is not None and key not in ("locked_by", "callback_operator")
    }
    data.update(activity="café", campaign=campaign.pk)
    # The inlines (numbers, people, pinned notes) as the page posts them, unchanged.
    phone = company.phones.get()
    data.update(
        {
            **{f"{prefix}-{name}": 0 for prefix in ("people", "notes") for name in COUNTS},
            "phones-TOTAL_FORMS": 1,
            "phones-INITIAL_FORMS": 1,
            "phones-MIN_NUM_FORMS": 0,
            "phones-MAX_NUM_FORMS": 1000,
            "phones-0-id": phone.pk,
            "phones-0-company": company.pk,
            "phones-0-position": phone.position,
            "phones-0-label": phone.label,
            "phones-0-number": phone.number,
            "phones-0-e164": phone.e164,
        }
    )
    response = client.post(reverse("admin:companies_company_change", args=[company.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cacao.refresh_from_db()
    cafe.refresh_from_db()
    assert (cacao.completed, cafe.completed) == (0, 1)
