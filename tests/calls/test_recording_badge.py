"""A recording's health as a badge: the same words on the call list, the contacts and the
company page (the export's column is checked with the export's golden rows)."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from calls.models import Health, health_label
from tests.factories import CallFactory, RecordingFactory


def badge(health, missing=0) -> str:
    template = Template(
        '{% include "calls/_recording_badge.html" with health=health missing=missing %}'
    )
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


@pytest.mark.parametrize("health", Health.values)
@pytest.mark.parametrize("missing", [0, 1, 3])
def test_the_badge_and_the_recorder_and_export_say_the_same_words(health, missing):
    """The template (any app includes it by name) and health_label (the recorder's answer,
    the export) share their messages."""
    assert f">{health_label(health, missing)}</span>" in badge(health, missing)


def test_no_recording_no_badge():
    assert badge(None) == "" and badge("") == ""


@pytest.fixture
def incomplete(operator, company):
    call = CallFactory(company=company, operator=operator, submitted=True)
    RecordingFactory(call=call, health=Health.COMPLETE)
    return RecordingFactory(call=call, health=Health.INCOMPLETE, missing_chunks=2)


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
