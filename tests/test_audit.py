"""The audit trail (django-auditlog, core/audit.py): changes to campaigns, companies and calls
are kept with who, when, before and after; drafts are not; entries are never editable."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from calls.models import CallRecord
from companies.models import Campaign, Company, DoNotCallEntry, QuotaCell
from tests.conftest import page_text
from tests.factories import campaign_form_data
from tests.quality.helpers import submit_call


def test_a_campaign_edited_from_its_page_is_in_the_trail(as_supervisor, supervisor, campaign):
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    response = as_supervisor.post(
        url,
        campaign_form_data(name="Nouveau nom", no_answer_max_attempts="5"),
        REMOTE_ADDR="10.1.2.3",
        headers={"X-Forwarded-For": "evil, 1.2.3.4"},
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(Campaign.objects.get(pk=campaign.pk)).latest()
    assert entry.actor == supervisor
    assert entry.changes_dict["no_answer_max_attempts"] == ["3", "5"]
    assert entry.changes_dict["name"] == ["Enquête transformateurs 2026", "Nouveau nom"]
    assert entry.remote_addr == "10.1.2.3"  # never a header the client wrote


def test_drafts_are_not_audited_but_the_submission_is(operator, company):
    call = submit_call(company, operator, "refused")
    entries = LogEntry.objects.get_for_object(call)
    assert entries.count() == 1  # the submission only, not each draft save
    entry = entries.get()
    assert entry.changes_dict["submitted_at"][0] == "None"
    assert entry.serialized_data["fields"]["call_status"] == "refused"  # the call as submitted
    assert "updated_at" not in entry.serialized_data["fields"]


def test_lease_columns_are_not_audited(operator, company):
    Company.objects.claim(company, operator)
    held = Company.objects.get(pk=company.pk)
    held.name = "Renommée"
    held.save()
    entry = LogEntry.objects.get_for_object(held).latest()
    assert set(entry.changes_dict) == {"name"}


def test_reopening_a_company_is_in_the_trail_with_its_supervisor(
    as_supervisor, supervisor, operator, company
):
    submit_call(company, operator, "refused")
    as_supervisor.post(reverse("companies:company_reopen", kwargs={"pk": company.pk}))
    entry = LogEntry.objects.get_for_object(company).latest()
    assert entry.actor == supervisor
    assert entry.changes_dict["status"] == ["done", "pending"]
    assert entry.additional_data == {"reason": "Rouvrir"}
    page = page_text(as_supervisor.get(reverse("companies:company", kwargs={"pk": company.pk})))
    assert "Terminé → À appeler" in page


@pytest.fixture
def entry(operator, company):
    call = submit_call(company, operator, "refused")
    return LogEntry.objects.get_for_object(CallRecord.objects.get(pk=call.pk)).get()


def test_the_trail_is_read_only_in_the_admin(client, admin_user, entry):
    client.force_login(admin_user)
    base = f"/admin/auditlog/logentry/{entry.pk}"
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.post(f"{base}/change/", {"object_repr": "x"}).status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/auditlog/logentry/add/").status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_supervisors_have_no_access_to_the_trail_in_the_admin(client, supervisor, entry):
    client.force_login(supervisor)
    assert client.get("/admin/auditlog/logentry/").status_code == 302


# --- Quotas and the do-not-call list (issue 15): their saves, and the bulk and UPDATE paths
# that send no signal, each write their entries (core/audit.py record_created/record_changes).


def entries_of(instance, action=None):
    entries = LogEntry.objects.get_for_object(instance).order_by("pk")
    return list(entries if action is None else entries.filter(action=action))


def test_the_five_kinds_of_rows_are_registered():
    from auditlog.registry import auditlog

    from companies.models import DoNotCallEntry, QuotaCell

    for model in (Campaign, Company, CallRecord, QuotaCell, DoNotCallEntry):
        assert auditlog.contains(model), model


def test_quota_cells_added_changed_and_deleted_from_the_page_are_in_the_trail(
    as_supervisor, supervisor, campaign
):
    url = reverse("companies:campaign_quotas", args=[campaign.pk])
    data = {"field1": "activity", "value1": "cacao", "field2": "", "value2": "", "target": 3}
    assert as_supervisor.post(url, data).status_code == 302
    cell = QuotaCell.objects.get()
    as_supervisor.post(
        reverse("companies:quota_target", args=[campaign.pk, cell.pk]), {"target": 7}
    )
    as_supervisor.post(reverse("companies:quota_delete", args=[campaign.pk, cell.pk]))
    added, target, deleted = entries_of(cell)
    assert [e.action for e in (added, target, deleted)] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]
    assert target.changes_dict == {"target": ["3", "7"]}  # an UPDATE: no signal of its own
    assert {added.actor, target.actor, deleted.actor} == {supervisor}


def test_each_count_of_a_cell_and_the_company_s_new_state_are_in_the_trail(
    operator, campaign, make_company
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from companies import quotas
    from companies.aapor import Disposition
    from companies.lifecycle import Outcome

    company = make_company(activity="cacao", location="Douala")
    cells = [
        QuotaCell.objects.create(campaign=campaign, field1="activity", value1="cacao", target=2),
        QuotaCell.objects.create(
            campaign=campaign,
            field1="activity",
            value1="cacao",
            field2="location",
            value2="Douala",
            target=1,
        ),
    ]
    other = QuotaCell.objects.create(campaign=campaign, field1="activity", value1="café", target=1)
    with CaptureQueriesContext(connection) as claim:
        assert Company.objects.claim_next(operator) == company
    assert not any("auditlog_logentry" in q["sql"] for q in claim)  # the claim writes none
    with CaptureQueriesContext(connection) as submit:
        Company.objects.record_outcome(company, operator, Outcome(Disposition.COMPLETE))
    # One INSERT for the company, one for all its cells: never one per cell.
    inserts = [q for q in submit if q["sql"].startswith('INSERT INTO "auditlog_logentry"')]
    assert len(inserts) == 2
    for counted in cells:
        (entry,) = entries_of(counted, LogEntry.Action.UPDATE)
        assert entry.changes_dict == {"completed": ["0", "1"]}
        assert entry.actor == operator
    assert entries_of(other, LogEntry.Action.UPDATE) == []
    state = LogEntry.objects.get_for_object(company).latest()
    assert state.actor == operator
    assert state.changes_dict["status"] == ["in_progress", "done"]
    assert state.changes_dict["disposition"][1] == Disposition.COMPLETE
    assert "locked_by" not in state.changes_dict  # the lease is not audited
    # A recount that finds another figure writes it too, with its reason.
    QuotaCell.objects.filter(pk=other.pk).update(completed=5)
    quotas.recount(campaign)
    (recounted,) = entries_of(other, LogEntry.Action.UPDATE)
    assert recounted.changes_dict == {"completed": ["5", "0"]}
    assert recounted.additional_data == {"reason": "Recompte des quotas"}
    assert len(entries_of(cells[0], LogEntry.Action.UPDATE)) == 1  # unchanged: no entry


def test_do_not_call_from_the_call_form_is_in_the_trail_and_on_the_company_page(
    client, supervisor, operator, company
):
    client.force_login(operator)
    assert Company.objects.claim(company, operator)
    response = client.post(
        reverse("calls:do_not_call", args=[company.pk]),
        {"reason": "Demande à ne plus être appelée"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    entry = DoNotCallEntry.objects.get()
    (logged,) = entries_of(entry)
    assert logged.action == LogEntry.Action.CREATE
    assert (logged.actor, logged.remote_addr) == (operator, "10.9.8.7")
    assert logged.changes_dict["phone_e164"] == ["None", company.phone_e164]
    assert logged.additional_data == {"reason": "Demande à ne plus être appelée"}
    client.force_login(supervisor)
    page = page_text(client.get(reverse("companies:company", args=[company.pk])))
    assert "Entrée « Ne plus appeler » —" in page
    assert f"— → {company.phone_e164}" in page


def test_the_supervisor_list_its_import_and_removals_are_in_the_trail(as_supervisor, supervisor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_supervisor.post(
        reverse("companies:do_not_call"), {"phone": "677 00 00 01", "niu": "", "reason": "Plainte"}
    )
    upload = SimpleUploadedFile("liste.csv", b"Telephone;Motif\n677000002;A\n677000003;B\n")
    as_supervisor.post(reverse("companies:do_not_call_import"), {"file": upload, "reason": "Liste"})
    entries = {e.phone_e164: e for e in DoNotCallEntry.objects.all()}
    assert set(entries) == {"+237677000001", "+237677000002", "+237677000003"}
    for entry in entries.values():
        (logged,) = entries_of(entry)
        assert (logged.action, logged.actor) == (LogEntry.Action.CREATE, supervisor)
    removed = entries["+237677000002"]
    as_supervisor.post(
        reverse("companies:do_not_call_remove", args=[removed.pk]), {"reason": "Erreur"}
    )
    _added, removal = entries_of(removed)
    assert removal.actor == supervisor
    assert removal.additional_data == {"reason": "Erreur"}
    assert removal.changes_dict["removal_reason"] == ["", "Erreur"]


def test_an_erasure_lists_the_numbers_with_entries_that_keep_none(supervisor, make_company):
    from privacy.erasure import erase_company

    company = make_company(phone="677123456", niu="M0001")
    erase_company(company.pk, supervisor, "Demande de la personne")
    listed = list(DoNotCallEntry.objects.filter(source="erasure"))
    assert {e.phone_e164 or e.niu for e in listed} >= {"+237677123456"}
    for entry in listed:
        (logged,) = entries_of(entry)
        assert (logged.action, logged.actor) == (LogEntry.Action.CREATE, supervisor)
        kept = str(logged.changes) + logged.object_repr
        assert "677123456" not in kept and "M0001" not in kept
