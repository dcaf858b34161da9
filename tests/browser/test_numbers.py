"""Several numbers, contact persons and pinned notes in real Chromium, with the fake microphone."""

import re

import pytest
from playwright.sync_api import expect

from calls.models import CallRecord
from companies.models import Company, PhoneLabel, Status

pytestmark = pytest.mark.browser


@pytest.fixture
def two_numbers(make_company):
    company = make_company(name="Huilerie de la Sanaga", phone="677 00 11 22", validity_score=95)
    company.merge_numbers([("699 00 11 22", PhoneLabel.MOBILE)])
    return company


def test_a_dead_number_brings_the_company_back_with_its_next_number(
    page, live_server, login, operator, two_numbers
):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=two_numbers.name)).to_be_visible()
    numbers = page.get_by_role("list", name="Numéros")
    expect(numbers.get_by_role("link", name="677 00 11 22")).to_have_attribute(
        "href", "tel:+237677001122"
    )
    expect(numbers.get_by_role("link", name="699 00 11 22")).to_have_attribute(
        "href", "tel:+237699001122"
    )
    expect(numbers.get_by_text("Jamais appelé")).to_have_count(2)

    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-status")).to_contain_text("Ko envoyés", timeout=10_000)
    dialled = page.get_by_role("radiogroup", name="Numéro appelé")
    dialled.get_by_text("Standard · 677 00 11 22").click()
    page.get_by_text("Invalide", exact=True).click()
    expect(page.get_by_label("Invalide")).to_be_checked()
    expect(dialled.get_by_label("Standard · 677 00 11 22")).to_be_checked()
    page.get_by_role("button", name="Valider et appeler le suivant").click()

    # The company comes back at once (it is the only one), on its mobile.
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible()
    expect(page.get_by_role("heading", name=two_numbers.name)).to_be_visible()
    dead = page.get_by_role("listitem").filter(has_text="677 00 11 22")
    expect(dead.get_by_text("hors service")).to_be_visible()
    expect(dead).to_contain_text("Dernier résultat : 4.30 Numéro non valide")
    expect(page.get_by_role("radiogroup", name="Numéro appelé")).to_have_count(0)
    expect(page.locator("#dialled-number")).to_have_text(
        re.compile(r"Numéro appelé\s*:\s*Mobile · 699 00 11 22")
    )
    history = page.get_by_role("region", name="Appels précédents")
    expect(history.get_by_role("row").nth(1)).to_contain_text("677 00 11 22")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Invalide")

    call = CallRecord.objects.get(submitted_at__isnull=False)
    standard, mobile = two_numbers.phones.all()
    assert call.phone == standard and call.disposition == "4.30" and call.recordings.exists()
    standard.refresh_from_db()
    mobile.refresh_from_db()
    assert standard.is_dead and not mobile.is_dead
    two_numbers.refresh_from_db()
    assert two_numbers.status == Status.IN_PROGRESS and two_numbers.locked_by == operator


def test_the_holder_adds_and_corrects_a_contact_person_in_place(
    page, live_server, login, operator, two_numbers
):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=two_numbers.name)).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Ajouter une personne").click()
    form = page.get_by_role("form", name="Nouvelle personne")
    form.get_by_label("Nom").fill("Mme Ngo Bassa")
    form.get_by_label("Fonction").fill("Comptable")
    form.get_by_label("Ligne directe").fill("655 12 34 56")
    form.get_by_label("E-mail").fill("pas-une-adresse")
    form.get_by_role("button", name="Enregistrer").click()
    expect(form.get_by_text("Adresse e-mail invalide.")).to_be_visible()
    assert not two_numbers.people.exists()

    form.get_by_label("E-mail").fill("compta@sanaga.cm")
    form.get_by_role("button", name="Enregistrer").click()
    people = page.locator("#people")
    expect(people.get_by_text("Mme Ngo Bassa")).to_be_visible()
    expect(people.get_by_role("link", name="compta@sanaga.cm")).to_be_visible()
    # Her direct line joined the numbers, and the choice of the number called.
    numbers = page.get_by_role("list", name="Numéros")
    expect(numbers.get_by_role("link", name="655 12 34 56")).to_have_attribute(
        "href", "tel:+237655123456"
    )
    expect(numbers).to_contain_text("Ligne directe")
    expect(page.get_by_role("radiogroup", name="Numéro appelé").get_by_role("radio")).to_have_count(
        3
    )

    people.get_by_role("link", name="Corriger Mme Ngo Bassa").click()
    form = page.get_by_role("form", name="Corriger la personne")
    form.get_by_label("Fonction").fill("Directrice financière")
    form.get_by_role("button", name="Enregistrer").click()
    expect(people.get_by_text("Directrice financière")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True

    person = two_numbers.people.get()
    assert (person.name, person.role, person.email) == (
        "Mme Ngo Bassa",
        "Directrice financière",
        "compta@sanaga.cm",
    )


def test_a_note_pinned_by_a_supervisor_shows_in_the_call_form(
    browser, page, live_server, login, supervisor, operator, company
):
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/{company.pk}/")
    page.get_by_label(re.compile("Note à épingler")).fill("Ne jamais appeler avant 10 h")
    page.get_by_role("button", name="Épingler", exact=True).click()
    pinned = page.locator("#pinned-notes").get_by_role("note")
    expect(pinned).to_contain_text("Ne jamais appeler avant 10 h")

    operator_page = browser.new_context().new_page()
    login(operator_page, operator)
    operator_page.get_by_role("button", name="Appeler le suivant").click()
    expect(operator_page.get_by_role("note")).to_contain_text("Ne jamais appeler avant 10 h")
    expect(operator_page.get_by_role("button", name="Détacher")).to_have_count(0)
    operator_page.context.close()  # no page left polling the server after the test

    pinned.get_by_role("button", name="Détacher").click()
    expect(page.locator("#pinned-notes").get_by_role("note")).to_have_count(0)
    assert Company.objects.get(pk=company.pk).notes.pinned().count() == 0
