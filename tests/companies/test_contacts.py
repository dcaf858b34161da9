"""/contacts/: the supervisors' companies table, its actions and each company's history."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calls.models import Level
from companies.models import Campaign, Company, Status
from tests.conftest import ALWAYS_OPEN, page_text
from tests.factories import CallFactory, RecordingFactory

URL = reverse("companies:contacts")


def names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].page.object_list]


def test_it_lists_companies_with_their_status(as_supervisor, make_company):
    make_company(name="Ets Alpha", location="Kribi")

    response = as_supervisor.get(URL)

    assert response.status_code == 200
    content = page_text(response)
    assert "Ets Alpha" in content and "Kribi" in content and "À appeler" in content
    assert "{%" not in content and "{#" not in content
    assert reverse("companies:company", kwargs={"pk": Company.objects.get().pk}) in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "alpha"}, ["Ets Alpha"]),
        ({"q": "677009"}, ["Groupe Gamma"]),
        ({"q": "P999"}, ["Maison Beta"]),
        ({"status": "done"}, ["Maison Beta"]),
        ({"location": "yaound"}, ["Maison Beta"]),
        ({"activity": "export"}, ["Groupe Gamma"]),
        ({"archived": "oui"}, ["Archivée"]),
        ({"archived": "toutes"}, ["Archivée", "Ets Alpha", "Groupe Gamma", "Maison Beta"]),
        ({}, ["Ets Alpha", "Groupe Gamma", "Maison Beta"]),
    ],
)
def test_filters(as_supervisor, make_company, query, expected):
    make_company(name="Ets Alpha", location="Douala", activity="transformation")
    make_company(name="Maison Beta", location="Yaoundé", niu="P999000000001A", status="done")
    make_company(name="Groupe Gamma", phone="677 00 90 01", activity="export")
    make_company(name="Archivée", is_archived=True)

    response = as_supervisor.get(URL, query)

    assert names(response) == expected


def test_the_campaign_filter(as_supervisor, make_company):
    other = Campaign.objects.create(name="Autre campagne", **ALWAYS_OPEN)
    make_company(name="Dans la première")
    make_company(name="Dans l'autre", campaign=other)

    response = as_supervisor.get(URL, {"campaign": other.pk})

    assert names(response) == ["Dans l'autre"]


def test_sort_and_pages_of_fifty(as_supervisor, make_company):
    for n in range(55):
        make_company(name=f"Société {n:02d}", attempts=n % 4)

    first = as_supervisor.get(URL)
    second = as_supervisor.get(URL, {"page": 2})
    by_name_desc = as_supervisor.get(URL, {"sort": "-name"})

    assert len(names(first)) == 50 and names(first)[0] == "Société 00"
    assert names(second) == [f"Société {n}" for n in range(50, 55)]
    assert names(by_name_desc)[0] == "Société 54"
    assert 'hx-push-url="true"' in first.content.decode()


def test_htmx_requests_get_the_results_fragment(as_supervisor, make_company):
    make_company(name="Ets Alpha")

    response = as_supervisor.get(URL, {"q": "alpha"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert "<html" not in content and content.lstrip().startswith('<div id="results"')
    assert "Ets Alpha" in content
    assert response["Vary"].find("HX-Request") >= 0


def test_a_history_restore_gets_the_whole_page(as_supervisor):
    response = as_supervisor.get(
        URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


def test_reopen_puts_a_finished_company_back_in_the_queue(as_supervisor, make_company):
    done = make_company(name="Finie", status=Status.DONE)

    response = as_supervisor.post(
        reverse("companies:company_reopen", kwargs={"pk": done.pk}), {"next": URL + "?status=done"}
    )

    assert response.status_code == 302 and response["Location"] == URL + "?status=done"
    done.refresh_from_db()
    assert done.status == Status.PENDING
    assert "« Finie » est de nouveau à appeler." in page_text(as_supervisor.get(URL))


def test_reopen_with_htmx_returns_the_results_with_the_filters_kept(as_supervisor, make_company):
    done = make_company(name="Finie", status=Status.DONE)
    make_company(name="Autre finie", status=Status.DONE)
    make_company(name="À appeler")

    response = as_supervisor.post(
        reverse("companies:company_reopen", kwargs={"pk": done.pk}) + "?status=done",
        headers={"HX-Request": "true"},
    )

    content = page_text(response)
    assert "<html" not in content
    assert "« Finie » est de nouveau à appeler." in content
    assert names(response) == ["Autre finie"]  # still filtered on « Terminé »


def test_reopen_refuses_a_company_that_is_not_finished(as_supervisor, make_company):
    pending = make_company(name="Pas finie")

    as_supervisor.post(reverse("companies:company_reopen", kwargs={"pk": pending.pk}))

    assert "n'est pas terminée : rien à rouvrir" in page_text(as_supervisor.get(URL))


def test_release_frees_a_held_company(as_supervisor, make_company, operator):
    held = make_company(
        name="Tenue",
        status=Status.IN_PROGRESS,
        status_before_claim=Status.CALLBACK,
        locked_by=operator,
        locked_at=timezone.now(),
        lock_expires_at=timezone.now() + timedelta(minutes=2),
    )
    listing = page_text(as_supervisor.get(URL))
    assert "Libérer" in listing and "Awa Ngo" in listing

    response = as_supervisor.post(
        reverse("companies:company_release", kwargs={"pk": held.pk}),
        headers={"HX-Request": "true"},
    )

    held.refresh_from_db()
    assert (held.status, held.locked_by) == (Status.CALLBACK, None)
    assert "« Tenue » est libérée." in page_text(response)


def test_a_forged_next_never_leaves_the_site(as_supervisor, make_company):
    done = make_company(status=Status.DONE)

    response = as_supervisor.post(
        reverse("companies:company_reopen", kwargs={"pk": done.pk}),
        {"next": "https://ailleurs.example.com/"},
    )

    assert response["Location"] == URL


def test_actions_are_shown_only_where_they_apply(as_supervisor, make_company):
    make_company(name="À appeler")

    content = page_text(as_supervisor.get(URL))

    assert "Rouvrir" not in content and "Libérer" not in content


def test_operators_cannot_act(client, operator, make_company):
    done = make_company(status=Status.DONE)
    client.force_login(operator)

    response = client.post(reverse("companies:company_reopen", kwargs={"pk": done.pk}))

    assert response.status_code == 403
    done.refresh_from_db()
    assert done.status == Status.DONE


def test_the_detail_page_shows_the_card_and_every_call(as_supervisor, company, operator):
    CallFactory(
        company=company,
        operator=operator,
        outcome="no_answer",
        submitted_at=timezone.now() - timedelta(days=1),
    )
    accepted = CallFactory(
        company=company,
        operator=operator,
        attempt=2,
        outcome="complete",
        questions_orientees_level=Level.PARTIAL,
        notes="Rappeler le directeur\npour la suite.",
        submitted=True,
    )
    RecordingFactory(call=accepted, seconds=42)

    response = as_supervisor.get(reverse("companies:company", kwargs={"pk": company.pk}))

    content = page_text(response)
    assert "Coopérative Étoile du Wouri" in content and "+237677000001" in content
    assert "Historique des appels" in content
    for label in ["Décroche", "Accepte questionnaire", "Complet", "Partiel", "1.2", "3.13"]:
        assert label in content, label
    assert "Pas de réponse" in content and "Awa Ngo" in content
    assert "Rappeler le directeur<br>pour la suite." in content
    rows = content.split("<tbody>")[1].split("</tr>")  # latest call first
    assert "Écouter" in rows[0]
    assert "audio : non" in rows[1]


def test_the_detail_page_links_each_recording_to_its_player(as_supervisor, company, operator):
    call = CallFactory(company=company, operator=operator, outcome="voicemail")
    recording = RecordingFactory(call=call, seconds=7)

    response = as_supervisor.get(reverse("companies:company", kwargs={"pk": company.pk}))

    content = page_text(response)
    assert f'href="{reverse("calls:recording", args=[recording.pk])}"' in content
    assert "brouillon" in content  # a draft call is history too


def test_a_company_without_calls_says_so(as_supervisor, company):
    response = as_supervisor.get(reverse("companies:company", kwargs={"pk": company.pk}))

    assert "Aucun appel pour cette entreprise." in page_text(response)


def test_an_unknown_company_is_a_404(as_supervisor, db):
    assert as_supervisor.get(reverse("companies:company", kwargs={"pk": 999})).status_code == 404


def test_a_lapsed_lease_shows_the_status_the_queue_sees(as_supervisor, make_company, operator):
    callback = make_company(name="Rappel oublié", status=Status.CALLBACK)
    Company.objects.claim(callback, operator)
    with time_machine.travel(timezone.now() + timedelta(seconds=300)):
        listing = as_supervisor.get(URL)
        in_progress = as_supervisor.get(URL, {"status": "in_progress"})
        callbacks = as_supervisor.get(URL, {"status": "callback"})
        detail = as_supervisor.get(reverse("companies:company", kwargs={"pk": callback.pk}))
    row = page_text(listing).split(f'id="company-{callback.pk}"')[1].split("</tr>")[0]
    assert "Rappel" in row and "En cours" not in row
    assert names(in_progress) == [] and names(callbacks) == ["Rappel oublié"]
    assert "En cours" not in page_text(detail).split("Statut")[1].split("</dd>")[0]
