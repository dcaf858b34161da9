"""The do-not-call list: across campaigns, by normalised number and by NIU, checked inside the
claim's conditional UPDATE; imports never make a listed company callable again; supervisors add,
import and remove entries (a removal is kept, with its reason); contacts and exports show it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies import donotcall
from companies.aapor import Disposition
from companies.lifecycle import Outcome
from companies.models import (
    Campaign,
    Company,
    ContactPerson,
    DoNotCallEntry,
    DoNotCallSource,
    ImportMode,
    PhoneLabel,
    Status,
)
from companies.queue_health import is_listed
from exports.writers import Export, Scope
from exports.writers import Filters as ExportFilters
from tests.conftest import ALWAYS_OPEN


def listed(user, phone="", niu="", reason="Ne veut plus être appelée"):
    return donotcall.add(phone=phone, niu=niu, reason=reason, user=user)


def callable_now(company) -> bool:
    return Company.objects.with_queue_state().get(pk=company.pk).queue_state == "callable"


def test_a_listed_number_is_never_served(operator, supervisor, make_company):
    company = make_company(phone="6 77 12 34 56")
    listed(supervisor, phone="+237 677 12 34 56")
    assert Company.objects.claim_next(operator) is None
    assert not Company.objects.claim(company, operator)
    assert Company.objects.with_queue_state().get(pk=company.pk).queue_state == "do_not_call"


def test_a_listed_niu_is_never_served_however_it_is_written(operator, supervisor, make_company):
    make_company(niu="m 0123 4567 8x")
    listed(supervisor, niu="M012345678X")
    assert Company.objects.claim_next(operator) is None
    assert DoNotCallEntry.objects.get().niu == "M012345678X"


def test_the_list_holds_across_campaigns(operator, supervisor, make_company):
    make_company(phone="677123456")
    other = Campaign.objects.create(name="Autre campagne", **ALWAYS_OPEN)
    twin = Company.objects.create(campaign=other, name="Même numéro", phone="+237677123456")
    listed(supervisor, phone="677123456")
    assert Company.objects.claim_next(operator) is None
    assert not callable_now(twin)


def test_the_claims_conditional_update_checks_the_list(operator, supervisor, make_company):
    """The check is in the UPDATE that takes the company: a number listed while its company is
    queued is never served, whatever the reads before it saw."""
    make_company()
    with CaptureQueriesContext(connection) as queries:
        Company.objects.claim_next(operator)
    claim = 'UPDATE "companies_company" SET "lock_token"'
    claims = [q["sql"] for q in queries if q["sql"].startswith(claim)]
    assert claims and all("companies_donotcallentry" in sql for sql in claims)


def test_removing_an_entry_makes_the_company_callable_and_keeps_the_history(
    client, operator, supervisor, make_company
):
    company = make_company(phone="677123456")
    entry = listed(supervisor, phone="677123456")
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:do_not_call_remove", args=[entry.pk]), {"reason": "Erreur de saisie"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.removed_at is not None and entry.removed_by == supervisor
    assert entry.removal_reason == "Erreur de saisie"
    assert Company.objects.claim_next(operator) == company
    history = client.get(reverse("companies:do_not_call"), {"state": "removed"}).text
    assert "Erreur de saisie" in history and "+237677123456" in history
    # Listed again later: a new entry, the old one stays in the history.
    listed(supervisor, phone="677123456", reason="Redemande")
    assert DoNotCallEntry.objects.count() == 2 and DoNotCallEntry.objects.live().count() == 1


def test_a_removal_needs_a_reason(client, supervisor):
    entry = listed(supervisor, phone="677123456")
    client.force_login(supervisor)
    client.post(reverse("companies:do_not_call_remove", args=[entry.pk]), {"reason": "  "})
    entry.refresh_from_db()
    assert entry.removed_at is None


def test_a_company_being_called_may_finish(operator, supervisor, make_company):
    company = make_company(phone="677123456")
    assert Company.objects.claim(company, operator)
    listed(supervisor, phone="677123456")
    assert Company.objects.renew(company, operator, "") is False  # no page token: unchanged
    assert Company.objects.record_outcome(company, operator, Outcome(Disposition.NO_ANSWER))
    company.refresh_from_db()
    assert company.status == Status.PENDING  # retried later... but never served again
    Company.objects.filter(pk=company.pk).update(next_call_at=None)
    assert Company.objects.claim_next(operator) is None


@pytest.mark.parametrize("mode", [ImportMode.ADD, ImportMode.REPLACE])
def test_imports_never_make_a_listed_company_callable_again(
    run_import, operator, supervisor, campaign, make_company, mode
):
    company = make_company(name="Listée", phone="677123456", niu="M1", status=Status.DONE)
    listed(supervisor, phone="677123456", niu="M1")
    data = "name;phone;niu;status\nListée;677123456;M1;à appeler\nAutre;677999999;M2;\n".encode()
    run_import(data, mode=mode, campaign=campaign)
    relisted = Company.objects.get(campaign=campaign, niu="M1", is_archived=False)
    assert relisted.pk == company.pk
    assert not callable_now(relisted)
    assert Company.objects.claim_next(operator).name == "Autre"


def test_a_new_campaign_of_a_listed_number_does_not_call_it(run_import, supervisor, operator):
    listed(supervisor, niu="M1")
    _preview, _applied, batch = run_import(b"name;phone;niu\nListee;677123456;m1\n")
    batch.campaign.calling_hours = ALWAYS_OPEN["calling_hours"]
    batch.campaign.public_holidays = False
    batch.campaign.save()
    assert Company.objects.claim_next(operator) is None


# --- Adding, importing, the pages -------------------------------------------------------------


def test_add_refuses_what_it_cannot_list_and_lists_once(supervisor):
    with pytest.raises(donotcall.DoNotCallError, match="Indiquez un numéro"):
        listed(supervisor)
    with pytest.raises(donotcall.DoNotCallError, match="non reconnu"):
        listed(supervisor, phone="12")
    with pytest.raises(donotcall.DoNotCallError, match="motif"):
        listed(supervisor, phone="677123456", reason="   ")
    listed(supervisor, phone="677123456")
    with pytest.raises(donotcall.DoNotCallError, match="déjà sur la liste"):
        listed(supervisor, phone="+237 6 77 12 34 56")
    entry = listed(supervisor, phone="677123456", niu="M9")  # the number is listed: the NIU only
    assert (entry.phone_e164, entry.niu) == ("", "M9")


def test_a_supervisor_adds_a_number_from_the_page(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:do_not_call"), {"phone": "677 12 34 56", "niu": "", "reason": "Plainte"}
    )
    assert response.status_code == 302
    entry = DoNotCallEntry.objects.get()
    assert (entry.phone_e164, entry.reason, entry.created_by) == (
        "+237677123456",
        "Plainte",
        supervisor,
    )
    assert entry.source == DoNotCallSource.SUPERVISOR
    page = client.get(reverse("companies:do_not_call")).text
    assert "+237677123456" in page and "Plainte" in page


def test_bad_input_on_the_page_is_explained_and_adds_nothing(client, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("companies:do_not_call"), {"phone": "abc", "reason": "x"})
    assert response.status_code == 422 and "non reconnu" in response.text
    response = client.post(
        reverse("companies:do_not_call"), {"phone": "", "niu": "", "reason": "x"}
    )
    assert response.status_code == 422 and "Indiquez un numéro" in response.text
    response = client.post(reverse("companies:do_not_call"), {"phone": "677123456", "reason": ""})
    assert response.status_code == 422 and "Indiquez le motif" in response.text
    assert not DoNotCallEntry.objects.exists()


def test_a_supervisor_lists_a_company_from_its_page(client, supervisor, operator, make_company):
    company = make_company(phone="677123456", niu="M7")
    client.force_login(supervisor)
    client.post(reverse("companies:company_do_not_call", args=[company.pk]), {"reason": "Demande"})
    entry = DoNotCallEntry.objects.get()
    assert (entry.phone_e164, entry.niu, entry.company_name) == (
        "+237677123456",
        "M7",
        company.name,
    )
    page = client.get(reverse("companies:company", args=[company.pk])).text
    assert "Sur la liste « Ne plus appeler »" in page and "Demande" in page


def test_operators_cannot_keep_the_list(client, operator):
    client.force_login(operator)
    assert client.get(reverse("companies:do_not_call")).status_code == 403
    response = client.post(reverse("companies:do_not_call"), {"phone": "677123456", "reason": "x"})
    assert response.status_code == 403
    assert not DoNotCallEntry.objects.exists()


IMPORT = (
    "Téléphone;NIU;Entreprise;Motif\n"
    "677 12 34 56;;Ets Un;Plainte\n"
    ";m 2;Ets Deux;\n"
    "+33 1 42 42 42 42;;Paris;Demande écrite\n"
    "pas un numéro;;Ets Trois;\n"
    "677123456;;Doublon;\n"
    ";;Vide;\n"
).encode("cp1252")


def test_a_list_is_imported_with_the_company_import_reader(client, supervisor):
    listed(supervisor, phone="+33142424242")  # already listed
    client.force_login(supervisor)
    with CaptureQueriesContext(connection):
        response = client.post(
            reverse("companies:do_not_call_import"),
            {"file": _upload(IMPORT), "reason": "Liste de l'association"},
        )
    assert response.status_code == 302
    entries = {e.phone_e164 or e.niu: e for e in DoNotCallEntry.objects.filter(source="import")}
    assert set(entries) == {"+237677123456", "M2"}
    assert entries["+237677123456"].reason == "Plainte"
    assert entries["M2"].reason == "Liste de l'association"  # the default reason
    assert entries["M2"].company_name == "Ets Deux"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[0] == "Liste importée : 2 ajoutés, 2 déjà sur la liste, 2 lignes rejetées."
    assert "Ligne 5 : numéro « pas un numéro » non reconnu." in messages
    assert "Ligne 7 : ni numéro ni NIU." in messages


def test_a_list_without_header_is_phone_niu_reason(supervisor):
    result = donotcall.import_list(
        b"677123456,M5,Plainte\n699000000,,\n", reason="", user=supervisor
    )
    assert result.added == 1 and result.rejected == [
        (2, "motif manquant (indiquez un motif par défaut)")
    ]
    entry = DoNotCallEntry.objects.get()
    assert (entry.phone_e164, entry.niu, entry.reason) == ("+237677123456", "M5", "Plainte")


def test_an_import_that_is_not_a_csv_is_refused(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:do_not_call_import"),
        {"file": _upload(b"PK\x03\x04 a spreadsheet"), "reason": "x"},
    )
    assert response.status_code == 422 and "classeur" in response.text
    assert not DoNotCallEntry.objects.exists()


def test_a_list_over_the_size_limit_is_refused_before_it_is_read(client, supervisor, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:do_not_call_import"),
        {"file": _upload(IMPORT + b"677000001;M9;Plainte\n" * 10), "reason": "x"},
    )
    assert response.status_code == 422 and "Découpez-le en plusieurs fichiers" in response.text
    assert not DoNotCallEntry.objects.exists()


def test_a_page_size_in_the_url_is_ignored(client, supervisor):
    """The table is paged by the view alone: a hostile per_page used to raise a 500."""
    client.force_login(supervisor)
    for per_page in ("-1", "0", "100000"):
        response = client.get(reverse("companies:do_not_call"), {"per_page": per_page})
        assert response.status_code == 200


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("liste.csv", data, content_type="text/csv")


# --- Contacts and exports show the flag -------------------------------------------------------


def test_contacts_show_the_flag(client, supervisor, make_company):
    make_company(name="Listée", phone="677123456")
    make_company(name="Libre", phone="677999999")
    listed(supervisor, phone="677123456")
    client.force_login(supervisor)
    table = client.get(reverse("companies:contacts")).context["table"]
    flags = {row.record.name: row.record.do_not_call for row in table.rows}
    assert flags == {"Listée": True, "Libre": False}


# --- Every number of a company ----------------------------------------------------------------


def test_a_company_is_held_back_by_any_of_its_numbers(operator, supervisor, make_company):
    company = make_company(name="Deux numéros", phone="677123456")
    company.merge_numbers([("699 11 22 33", PhoneLabel.MOBILE)])
    free = make_company(name="Libre", phone="677999999")
    listed(supervisor, phone="+237 699 11 22 33")  # its second number only

    assert Company.objects.with_queue_state().get(pk=company.pk).queue_state == "do_not_call"
    assert not Company.objects.claim(company, operator)
    assert Company.objects.claim_next(operator) == free
    assert is_listed(company) and not is_listed(free)


def test_a_direct_line_of_a_contact_person_counts_too(operator, supervisor, make_company):
    company = make_company(phone="677123456")
    ContactPerson.objects.create(company=company, name="Mme Ndiaye", phone="699 44 55 66")
    listed(supervisor, phone="699445566")
    assert not callable_now(company)
    assert Company.objects.claim_next(operator) is None


def test_the_company_page_names_the_entry_of_any_of_its_numbers(client, supervisor, make_company):
    company = make_company(phone="677123456")
    company.merge_numbers([("699 11 22 33", PhoneLabel.MOBILE)])
    listed(supervisor, phone="699112233", reason="Plainte du gérant")
    client.force_login(supervisor)
    page = client.get(reverse("companies:company", args=[company.pk])).text
    assert "Sur la liste « Ne plus appeler »" in page and "Plainte du gérant" in page


def test_listing_a_company_lists_every_number_and_its_niu(client, supervisor, make_company):
    company = make_company(phone="677123456", niu="M7")
    company.merge_numbers([("699 11 22 33", PhoneLabel.MOBILE), ("pas un numéro", "other")])
    client.force_login(supervisor)
    url = reverse("companies:company_do_not_call", args=[company.pk])
    client.post(url, {"reason": "Demande"})
    entries = DoNotCallEntry.objects.order_by("phone_e164")
    assert [(entry.phone_e164, entry.niu) for entry in entries] == [
        ("+237677123456", "M7"),
        ("+237699112233", ""),
    ]
    response = client.post(url, {"reason": "Encore"}, follow=True)
    assert "déjà sur la liste" in response.text
    assert DoNotCallEntry.objects.count() == 2


def test_the_export_flags_a_company_by_any_of_its_numbers(supervisor, make_company):
    company = make_company(name="Deux numéros", phone="677123456")
    company.merge_numbers([("699 11 22 33", PhoneLabel.MOBILE)])
    make_company(name="Libre", phone="677999999")
    listed(supervisor, phone="699112233")
    export = Export(Scope.COMPANIES, ExportFilters())
    column = export.headers.index("Ne plus appeler")
    flags = {row[0]: row[column] for row in export.rows()}
    assert flags == {"Deux numéros": "oui", "Libre": "non"}
