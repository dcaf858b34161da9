"""The audit trail (django-auditlog, core/audit.py): changes to campaigns, companies and calls
are kept with who, when, before and after; drafts are not; entries are never editable."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from calls.models import CallRecord
from companies.models import Campaign, Company
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
