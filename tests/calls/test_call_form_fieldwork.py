"""The call form and the fieldwork rules: « Ne plus appeler » (the companies' do-not-call list,
from a calls view), and the warning when a callback is set outside the company's window."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from companies.models import Company, DoNotCallEntry, DoNotCallSource

HTMX = {"HX-Request": "true"}
DOUALA = ZoneInfo("Africa/Douala")


def holding(client, operator, company):
    client.force_login(operator)
    assert Company.objects.claim(company, operator)
    client.post(reverse("calls:fill", args=[company.pk]), {"without_recording": "on"}, headers=HTMX)


def test_do_not_call_from_the_call_form_lists_the_number_and_niu(client, operator, company):
    holding(client, operator, company)
    assert "Ne plus appeler…" in client.get(reverse("calls:fill", args=[company.pk])).text
    response = client.post(
        reverse("calls:do_not_call", args=[company.pk]),
        {"reason": "Demande à ne plus être appelée"},
        headers=HTMX,
    )
    assert "<html" not in response.text  # the fragment: the recorder keeps running
    assert "Ce numéro est sur la liste « Ne plus appeler »" in response.text
    entry = DoNotCallEntry.objects.get()
    assert (entry.phone_e164, entry.niu) == (company.phone_e164, company.niu)
    assert (entry.source, entry.created_by) == (DoNotCallSource.CALL_FORM, operator)
    assert entry.company_name == company.name
    # The operator still records the outcome; the company is never served again.
    client.post(
        reverse("calls:submit", args=[company.pk]),
        {"without_recording": "on", "status_numero": "no_answer"},
    )
    Company.objects.filter(pk=company.pk).update(next_call_at=None)
    assert Company.objects.claim_next(operator) is None


def test_do_not_call_asks_a_reason(client, operator, company):
    holding(client, operator, company)
    response = client.post(
        reverse("calls:do_not_call", args=[company.pk]), {"reason": ""}, headers=HTMX
    )
    assert "Indiquez le motif." in response.text and "<details open>" in response.text
    assert not DoNotCallEntry.objects.exists()


def test_do_not_call_without_htmx_redirects_with_a_message(client, operator, company):
    holding(client, operator, company)
    response = client.post(
        reverse("calls:do_not_call", args=[company.pk]), {"reason": "Plainte"}, follow=True
    )
    assert "Ce numéro ne sera plus appelé, dans aucune campagne." in response.text
    assert DoNotCallEntry.objects.count() == 1


def test_only_the_operator_holding_the_company_may_list_it(client, operator, operator2, company):
    holding(client, operator, company)
    client.force_login(operator2)
    response = client.post(
        reverse("calls:do_not_call", args=[company.pk]), {"reason": "x"}, headers=HTMX
    )
    assert "Vous ne tenez plus cette entreprise" in response.text
    assert not DoNotCallEntry.objects.exists()


@time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=DOUALA), tick=False)
def test_a_callback_outside_the_window_is_honoured_but_warned(client, operator, company):
    campaign = company.campaign
    campaign.calling_hours = [[["08:00", "18:00"]]] * 5 + [[], []]
    campaign.save()
    holding(client, operator, company)
    url = reverse("calls:fill", args=[company.pk])
    answers = {"without_recording": "on", "status_numero": "answered", "call_status": "callback"}
    evening = client.post(url, {**answers, "callback_at": "2026-12-02T20:30"}, headers=HTMX)
    assert 'id="callback-warning"' in evening.text
    assert "hors des heures d&#x27;appel" in evening.text
    assert "mercredi 02/12/2026 20:30" in evening.text
    sunday = client.post(url, {**answers, "callback_at": "2026-12-06T10:00"}, headers=HTMX)
    assert 'id="callback-warning"' in sunday.text
    morning = client.post(url, {**answers, "callback_at": "2026-12-02T10:00"}, headers=HTMX)
    assert 'id="callback-warning"' not in morning.text
    # Submitted, the appointment is kept at its time, outside the window.
    client.post(
        reverse("calls:submit", args=[company.pk]), {**answers, "callback_at": "2026-12-02T20:30"}
    )
    company.refresh_from_db()
    assert company.appointment and company.next_call_at == datetime(
        2026, 12, 2, 20, 30, tzinfo=DOUALA
    )
    with time_machine.travel(datetime(2026, 12, 2, 20, 31, tzinfo=DOUALA), tick=False):
        assert Company.objects.claim_next(operator) == company


@time_machine.travel(datetime(2026, 12, 1, 4, 0, tzinfo=DOUALA), tick=False)  # noon in Tokyo
def test_the_warning_speaks_of_the_company_local_time(client, operator, make_company):
    tokyo = make_company(phone="+81 3 1234 5678")
    campaign = tokyo.campaign
    campaign.calling_hours = [[["08:00", "18:00"]]] * 7
    campaign.save()
    holding(client, operator, tokyo)
    response = client.post(
        reverse("calls:fill", args=[tokyo.pk]),
        {
            "without_recording": "on",
            "status_numero": "answered",
            "call_status": "callback",
            "callback_at": "2026-12-02T14:00",  # 22:00 in Tokyo
        },
        headers=HTMX,
    )
    assert "heure locale de l&#x27;entreprise : mercredi 02/12/2026 22:00" in response.text
