"""A recording's health as a badge: the same words on the call list, the contacts and the
company page (the export's column is checked with the export's golden rows)."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from calls.models import CallRecord, Health, Recording


def badge(health, missing=0) -> str:
    template = Template("{% load recordings %}{% recording_badge health missing %}")
    return template.render(Context({"health": health, "missing": missing})).strip()


@pytest.mark.parametrize(
    ("health", "missing", "words"),
    [
        (Health.COMPLETE, 0, "complet"),
        (Health.INCOMPLETE, 2, "incomplet : 2 morceaux manquants"),
        (Health.INCOMPLETE, 1, "incomplet : 1 morceau manquant"),
        (Health.INCOMPLETE, 0, "incomplet"),
        (Health.SILENT, 0, "silencieux"),
        (Health.RECORDING, 0, "en cours"),
        (Health.EMPTY, 0, "vide"),
        (Health.UNCHECKED, 0, "non vérifié"),
    ],
)
def test_the_badge_says_the_health_in_words(health, missing, words):
    html = badge(health, missing)
    assert f">{words}</span>" in html and 'class="badge' in html


def test_no_recording_no_badge():
    assert badge(None) == "" and badge("") == ""


@pytest.fixture
def incomplete(operator, company):
    call = CallRecord.objects.create(
        company=company,
        operator=operator,
        status_numero="no_answer",
        submitted_at="2026-11-29T09:00Z",
    )
    Recording.objects.create(call=call, size_bytes=10, is_complete=True, health=Health.COMPLETE)
    return Recording.objects.create(
        call=call, size_bytes=20, is_complete=True, health=Health.INCOMPLETE, missing_chunks=2
    )


def test_the_call_list_shows_the_health_of_the_latest_recording(client, operator, incomplete):
    client.force_login(operator)
    response = client.get(reverse("calls:list"))
    assert "incomplet : 2 morceaux manquants" in response.text
    polled = client.get(
        reverse("calls:lock_states") + f"?ids={incomplete.call.company_id}",
        headers={"HX-Request": "true"},
    )
    assert "incomplet : 2 morceaux manquants" in polled.text


def test_an_operator_sees_no_badge_for_another_operators_recording(client, operator2, incomplete):
    client.force_login(operator2)
    assert "incomplet" not in client.get(reverse("calls:list")).text


def test_contacts_show_the_health_of_the_latest_recording(client, supervisor, incomplete):
    client.force_login(supervisor)
    response = client.get(reverse("companies:contacts"))
    assert "incomplet : 2 morceaux manquants" in response.text


def test_the_company_page_shows_the_health_of_each_recording(client, supervisor, incomplete):
    client.force_login(supervisor)
    response = client.get(reverse("companies:company", args=[incomplete.call.company_id]))
    assert "incomplet : 2 morceaux manquants" in response.text
    assert ">complet</span>" in response.text
