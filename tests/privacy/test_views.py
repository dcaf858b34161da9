"""The erasure's page and the subject access download, as supervisors use them and as they are
abused: a GET never erases, a missing reason or confirmation changes nothing, an operator or a
supervisor without the permission is refused, a company in an operator's hands is refused with a
French message; an erased company's page says so and takes no new personal data."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from companies.lifecycle import Status
from companies.models import Company
from tests.conftest import make_user, page_text
from tests.factories import CompanyFactory
from tests.privacy.conftest import CALL_NOTE, EMAIL, NAME, NIU, PERSON, PINNED


def erase_url(company) -> str:
    return reverse("privacy:erase", kwargs={"pk": company.pk})


def company_url(company) -> str:
    return reverse("companies:company", kwargs={"pk": company.pk})


def unchanged(company) -> bool:
    company = Company.objects.get(pk=company.pk)
    return company.name == NAME and company.erased_at is None and company.phones.count() == 3


VALID = {"reason": "Demande écrite du gérant", "confirm": "on"}


def test_the_page_says_what_goes_and_what_stays(world, as_supervisor):
    response = as_supervisor.get(erase_url(world.company))
    text = page_text(response)
    assert response.status_code == 200
    assert f"Effacer les données de « {NAME} »" in text
    assert "3 numéros" in text and "1 personne à contacter" in text
    assert "les notes de 2 appels" in text
    assert "le son de 2 enregistrements (55 s)" in text
    assert "2 appels, avec leurs réponses" in text
    assert "Effacer définitivement" in text


def test_the_page_names_the_same_firm_in_other_campaigns(world, as_supervisor):
    CompanyFactory(niu=NIU, name="Zebulon, campagne 2028")
    text = page_text(as_supervisor.get(erase_url(world.company)))
    assert "Même numéro ou même NIU ailleurs" in text and "Zebulon, campagne 2028" in text


def test_a_get_never_erases(world, as_supervisor):
    response = as_supervisor.get(erase_url(world.company), {**VALID, "pk": world.company.pk})
    assert response.status_code == 200
    assert unchanged(world.company)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"confirm": "on"}, "Indiquez le motif de l'effacement."),
        ({"reason": "   ", "confirm": "on"}, "Indiquez le motif de l'effacement."),
        ({"reason": "Demande écrite"}, "Cochez la confirmation pour effacer."),
        ({"reason": "x" * 1001, "confirm": "on"}, "1000 caractères"),
    ],
)
def test_a_missing_reason_or_confirmation_changes_nothing(world, as_supervisor, data, message):
    response = as_supervisor.post(erase_url(world.company), data)
    assert response.status_code == 422
    assert message in page_text(response)
    assert unchanged(world.company)


def test_an_operator_may_not_erase(world, client, operator):
    client.force_login(operator)
    assert client.post(erase_url(world.company), VALID).status_code == 403
    assert unchanged(world.company)


def test_a_supervisor_needs_the_erasure_permission(world, client, roles):
    reader = make_user("lecteur")
    reader.user_permissions.add(Permission.objects.get(codename="view_company"))
    client.force_login(reader)
    assert client.post(erase_url(world.company), VALID).status_code == 403
    page = page_text(client.get(company_url(world.company)))
    assert "Télécharger ses données" in page and "Effacer ses données" not in page
    assert unchanged(world.company)


def test_an_unknown_company_is_a_404(world, as_supervisor):
    url = reverse("privacy:erase", kwargs={"pk": world.company.pk + 1000})
    assert as_supervisor.post(url, VALID).status_code == 404
    assert unchanged(world.company)


def test_a_company_being_called_is_refused_with_a_french_message(world, as_supervisor, operator2):
    Company.objects.filter(pk=world.company.pk).update(status=Status.PENDING, next_call_at=None)
    assert Company.objects.claim(world.company, operator2)
    page = page_text(as_supervisor.get(erase_url(world.company)))
    assert "Paul Eto appelle cette entreprise en ce moment" in page
    response = as_supervisor.post(erase_url(world.company), VALID)
    assert response.status_code == 409
    assert "est en cours d'appel par Paul Eto : rien n'a été effacé" in page_text(response)
    assert unchanged(world.company)


def test_erasing_from_the_page(world, as_supervisor):
    response = as_supervisor.post(erase_url(world.company), VALID, follow=True)

    assert response.redirect_chain == [(company_url(world.company), 302)]
    text = page_text(response)
    assert "Les données de l'entreprise sont effacées : 2 appels gardés sans notes" in text
    assert "Entreprise effacée" in text and "données effacées le" in text
    for value in [NAME, NIU, PERSON, EMAIL, PINNED, CALL_NOTE, "699 12 34 56"]:
        assert value not in text
    assert "purgé le" in text and "Écouter" not in text
    assert "Ajouter ce numéro" not in text and "Rouvrir" not in text
    assert "Demande écrite du gérant" in text  # the reason, in the history

    again = as_supervisor.post(erase_url(world.company), VALID, follow=True)
    assert "Entreprise déjà effacée : plus rien à effacer." in page_text(again)


def test_an_erased_company_takes_no_new_personal_data(world, as_supervisor):
    as_supervisor.post(erase_url(world.company), VALID)
    pk = world.company.pk
    number = as_supervisor.post(
        reverse("companies:number_add", kwargs={"pk": pk}), {"number": "677001122"}
    )
    person = as_supervisor.post(
        reverse("companies:person_add", kwargs={"pk": pk}), {"name": "M. Nouveau"}
    )
    note = as_supervisor.post(reverse("companies:note_pin", kwargs={"pk": pk}), {"text": "Note"})
    assert (number.status_code, person.status_code, note.status_code) == (403, 403, 403)
    company = Company.objects.get(pk=pk)
    assert not company.phones.exists() and not company.people.exists()
    assert not company.notes.exists()
    reopen = as_supervisor.post(reverse("companies:company_reopen", kwargs={"pk": pk}), follow=True)
    assert "elle ne se rouvre pas" in page_text(reopen)
    assert Company.objects.get(pk=pk).status == Status.DONE


# --- Subject access ----------------------------------------------------------------------------


def access_url(company) -> str:
    return reverse("privacy:subject_access", kwargs={"pk": company.pk})


def test_the_download_holds_everything_kept_about_the_company(world, as_supervisor, supervisor):
    response = as_supervisor.get(access_url(world.company))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="entreprise_{world.company.pk}_donnees.json"'
    )
    data = json.loads(response.content)
    assert data["entreprise"]["nom"] == NAME and data["entreprise"]["niu"] == NIU
    assert data["entreprise"]["téléphone_normalisé"] == "+237699123456"
    assert {n["numéro_normalisé"] for n in data["numéros"]} == {
        "+237699123456",
        "+237655443322",
        "+237677889900",
    }
    assert data["personnes_à_contacter"] == [
        {
            "nom": PERSON,
            "fonction": "Directrice",
            "ligne_directe": "677 88 99 00",
            "e_mail": EMAIL,
            "ajoutée_le": data["personnes_à_contacter"][0]["ajoutée_le"],
        }
    ]
    assert [n["note"] for n in data["notes_épinglées"]] == [PINNED]
    calls = data["appels"]
    assert [(c["statut_numéros"], c["statut_appel"], c["code_aapor"]) for c in calls] == [
        ("Pas de réponse", "", "3.13"),
        ("Décroche", "Pas transformateur", "4.70"),
    ]
    assert calls[1]["notes"] == CALL_NOTE and calls[1]["numéro_appelé"] == "677 88 99 00"
    assert calls[0]["validé_le"].endswith("+01:00")  # Douala time, as the pages show it
    assert [(r["durée_secondes"], r["son_purgé_le"]) for r in data["enregistrements"]] == [
        (42, None),
        (12.5, None),
    ]
    assert "Ets Voisin" not in response.content.decode()  # another company's data: never
    entry = LogEntry.objects.filter(object_id=world.company.pk).latest("pk")
    assert entry.action == LogEntry.Action.ACCESS and entry.actor == supervisor
    assert "Accès aux données" in entry.additional_data["reason"]


def test_an_operator_may_not_download_a_company(world, client, operator):
    client.force_login(operator)
    assert client.get(access_url(world.company)).status_code == 403


def test_the_download_is_get_only(world, as_supervisor):
    assert as_supervisor.post(access_url(world.company)).status_code == 405


def test_an_erased_company_downloads_without_its_values(world, as_supervisor):
    as_supervisor.post(erase_url(world.company), VALID)
    response = as_supervisor.get(access_url(world.company))
    data = json.loads(response.content)
    assert data["entreprise"]["nom"] == "Entreprise effacée"
    assert data["numéros"] == [] and data["personnes_à_contacter"] == []
    assert all(r["son_purgé_le"] for r in data["enregistrements"])
    assert NAME not in response.content.decode()
