"""A company's contact persons, numbers and pinned notes: added or corrected in place from the
call form by the operator holding the company, or by a supervisor; pinned by supervisors."""

import html

import pytest
from django.urls import reverse

from companies.models import Company, ContactPerson, PinnedNote

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def holding(client, operator, company):
    client.force_login(operator)
    assert Company.objects.claim(company, operator)
    return company


def add_url(company):
    return reverse("companies:person_add", args=[company.pk])


def edit_url(person):
    return reverse("companies:person_edit", args=[person.company_id, person.pk])


PERSON = {"name": "Mme Ndiaye", "role": "Directrice", "phone": "699 11 22 33", "email": "a@b.cm"}


def test_the_call_form_shows_the_contact_persons(client, holding):
    holding.people.create(name="M. Kamga", role="Gérant", email="kamga@example.cm")
    content = text(client.get(reverse("calls:fill", args=[holding.pk])))
    assert "M. Kamga" in content and "Gérant" in content
    assert 'href="mailto:kamga@example.cm"' in content


def test_the_holder_adds_a_person_in_place(client, holding):
    form = client.get(add_url(holding), headers=HTMX)
    assert "<html" not in form.text and 'id="person-form"' in form.text

    response = client.post(add_url(holding), PERSON, headers=HTMX)

    assert response.status_code == 200 and "<html" not in response.text
    person = holding.people.get()
    assert (person.name, person.role, person.phone_e164, person.email) == (
        "Mme Ndiaye",
        "Directrice",
        "+237699112233",
        "a@b.cm",
    )
    content = text(response)
    assert 'id="people"' in content and "Mme Ndiaye" in content
    # Her direct line is one of the numbers now, swapped in beside the list.
    assert 'id="numbers" hx-swap-oob="true"' in content and 'href="tel:+237699112233"' in content
    assert "numbers-changed" in response.headers["HX-Trigger"]


def test_the_holder_corrects_a_person_in_place(client, holding):
    person = holding.people.create(name="Mme Ndiay", role="Directrice")
    form = client.get(edit_url(person), headers=HTMX)
    assert 'value="Mme Ndiay"' in form.text
    response = client.post(edit_url(person), {**PERSON, "email": ""}, headers=HTMX)
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.name == "Mme Ndiaye" and person.email == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Indiquez le nom de la personne."),
        ({"email": "pas-une-adresse"}, "Adresse e-mail invalide."),
        ({"phone": "12"}, "Numéro non reconnu"),
        ({"name": "x" * 201}, "au plus 200 caractères"),
    ],
)
def test_bad_input_gets_a_french_message_and_changes_nothing(client, holding, fields, message):
    response = client.post(add_url(holding), {**PERSON, **fields}, headers=HTMX)
    assert response.status_code == 200 and message in text(response)
    assert not holding.people.exists()
    assert holding.phones.count() == 1


def test_hostile_text_is_shown_as_text(client, holding):
    client.post(add_url(holding), {**PERSON, "name": "<script>alert(1)</script>"}, headers=HTMX)
    response = client.get(reverse("calls:fill", args=[holding.pk]))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_without_htmx_the_forms_still_work(client, holding):
    back = reverse("calls:fill", args=[holding.pk])
    page = client.get(add_url(holding), {"next": back})
    assert "<html" in page.text and 'id="person-form"' in page.text
    assert f'name="next" value="{back}"' in page.text
    evil = client.get(add_url(holding), {"next": "https://evil.example/"})
    assert "evil.example" not in evil.text
    response = client.post(add_url(holding), {**PERSON, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    response = client.post(add_url(holding), {**PERSON, "next": "https://evil.example/"})
    assert response["Location"] == reverse("companies:people", args=[holding.pk])
    invalid = client.post(add_url(holding), {**PERSON, "email": "non"})
    assert invalid.status_code == 422 and "Adresse e-mail invalide." in text(invalid)


def test_an_operator_who_does_not_hold_the_company_changes_nothing(
    client, operator2, holding, make_company
):
    person = holding.people.create(name="Mme Ndiaye")
    client.force_login(operator2)
    assert client.post(add_url(holding), PERSON).status_code == 403
    assert client.post(edit_url(person), {**PERSON, "name": "Autre"}).status_code == 403
    assert client.get(add_url(holding)).status_code == 403
    assert client.get(reverse("companies:people", args=[holding.pk])).status_code == 403
    number = reverse("companies:number_add", args=[holding.pk])
    assert client.post(number, {"number": "699000000", "label": "mobile"}).status_code == 403
    # To htmx, a message in place of the part that asked.
    response = client.post(add_url(holding), PERSON, headers={**HTMX, "HX-Target": "people"})
    assert 'id="people"' in response.text and "Vous ne tenez plus cette entreprise" in text(
        response
    )
    person.refresh_from_db()
    assert person.name == "Mme Ndiaye" and holding.people.count() == 1
    assert holding.phones.count() == 1


def test_a_person_of_another_company_is_not_found(client, holding, make_company):
    stranger = make_company().people.create(name="Quelqu'un d'autre")
    response = client.post(reverse("companies:person_edit", args=[holding.pk, stranger.pk]), PERSON)
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.name == "Quelqu'un d'autre"


def test_a_supervisor_edits_people_and_numbers_from_the_company_page(client, supervisor, company):
    client.force_login(supervisor)
    page = text(client.get(reverse("companies:company", args=[company.pk])))
    assert "Ajouter une personne" in page and "Ajouter ce numéro" in page
    client.post(add_url(company), PERSON, headers=HTMX)
    assert company.people.get().name == "Mme Ndiaye"


def test_the_holder_adds_a_number_in_place(client, holding):
    url = reverse("companies:number_add", args=[holding.pk])
    response = client.post(url, {"number": "+237 6 55 44 33 22", "label": "mobile"}, headers=HTMX)
    assert response.status_code == 200 and 'href="tel:+237655443322"' in response.text
    assert "numbers-changed" in response.headers["HX-Trigger"]
    assert [n.label for n in holding.phones.all()] == ["standard", "mobile"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"number": "12", "label": "mobile"}, "Numéro non reconnu"),
        ({"number": "", "label": "mobile"}, "Ce champ est obligatoire."),
        ({"number": "699000001", "label": "fax"}, "Sélectionnez un choix valide"),
    ],
)
def test_a_bad_number_is_refused_with_a_message(client, holding, fields, message):
    url = reverse("companies:number_add", args=[holding.pk])
    response = client.post(url, fields, headers=HTMX)
    assert message in text(response) and "HX-Trigger" not in response.headers
    assert holding.phones.count() == 1


def test_a_number_already_listed_is_refused(client, holding):
    url = reverse("companies:number_add", args=[holding.pk])
    response = client.post(url, {"number": holding.phone_e164, "label": "mobile"}, headers=HTMX)
    assert "déjà dans la liste" in text(response)
    assert holding.phones.count() == 1


# --- Pinned notes -------------------------------------------------------------------------------


def test_a_supervisor_pins_a_note_that_every_call_form_shows(client, supervisor, operator, company):
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:note_pin", args=[company.pk]),
        {"text": "Ne parler qu'à la directrice"},
        headers=HTMX,
    )
    assert response.status_code == 200 and "<html" not in response.text
    note = company.notes.get()
    assert note.pinned_by == supervisor and note.unpinned_at is None

    client.force_login(operator)
    Company.objects.claim(company, operator)
    content = text(client.get(reverse("calls:fill", args=[company.pk])))
    assert "Ne parler qu'à la directrice" in content and "Marie Fouda" in content
    assert "Détacher" not in content  # operators read it, they do not unpin it


def test_a_supervisor_pins_the_notes_of_a_call_from_the_history(client, supervisor, company):
    from tests.factories import CallFactory

    CallFactory(company=company, submitted=True, notes="Standard fermé le lundi")
    client.force_login(supervisor)
    page = text(client.get(reverse("companies:company", args=[company.pk])))
    assert 'name="text" value="Standard fermé le lundi"' in page
    client.post(
        reverse("companies:note_pin", args=[company.pk]), {"text": "Standard fermé le lundi"}
    )
    assert company.notes.pinned().get().text == "Standard fermé le lundi"


def test_an_empty_note_is_refused(client, supervisor, company):
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:note_pin", args=[company.pk]), {"text": "   "}, headers=HTMX
    )
    assert "La note est vide." in text(response)
    assert not PinnedNote.objects.exists()


def test_unpinning_keeps_the_note_with_who_and_when(client, supervisor, company):
    note = company.notes.create(text="Ancienne consigne", pinned_by=supervisor)
    client.force_login(supervisor)
    response = client.post(reverse("companies:note_unpin", args=[company.pk, note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.unpinned_by == supervisor and note.unpinned_at is not None
    assert "Ancienne consigne" not in text(
        client.get(reverse("companies:company", args=[company.pk]))
    )


def test_notes_cannot_be_pinned_by_operators_nor_unpinned_through_another_company(
    client, operator, supervisor, company, make_company
):
    note = company.notes.create(text="Consigne", pinned_by=supervisor)
    client.force_login(operator)
    assert (
        client.post(reverse("companies:note_pin", args=[company.pk]), {"text": "x"}).status_code
        == 403
    )
    assert (
        client.post(reverse("companies:note_unpin", args=[company.pk, note.pk])).status_code == 403
    )
    client.force_login(supervisor)
    other = make_company()
    response = client.post(reverse("companies:note_unpin", args=[other.pk, note.pk]))
    assert response.status_code == 404
    assert company.notes.pinned().count() == 1
    assert client.get(reverse("companies:note_pin", args=[company.pk])).status_code == 405
    assert ContactPerson.objects.count() == 0
