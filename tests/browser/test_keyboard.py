"""The call form by keyboard alone, in Chromium: a whole call without the mouse, the keys shown
on the buttons and listed by « ? », a visible focus, and the live regions that tell a screen
reader what changed (draft saved, lease lost, the recorder's state)."""

import re

import pytest
from playwright.sync_api import expect

from calls.models import CallRecord
from companies.models import Company, Status
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def is_focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, limit: int = 60) -> None:
    """Press Tab until `locator` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return
    raise AssertionError(f"Tab never reached {locator}")


def focus_ring(page) -> dict:
    """The outline drawn around what has the focus; for the call form's radios, which are
    visually hidden, around the button drawn for them (their label)."""
    return page.evaluate(
        """() => {
            let element = document.activeElement;
            if (element.matches(".btn-check")) element = element.labels[0];
            const style = getComputedStyle(element);
            return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
        }"""
    )


def open_call_form(page, live_server, login, operator, company):
    assert Company.objects.claim(company, operator)
    login(page, operator)
    page.goto(f"{live_server.url}/appels/{company.pk}/remplir/")
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_role("button", name="Lancer le micro")).to_be_enabled()


def test_an_operator_does_a_whole_call_by_keyboard(page, live_server, operator, company):
    page.goto(f"{live_server.url}/appels/acces/")
    expect(page.get_by_label("Identifiant")).to_be_focused()
    page.keyboard.type(operator.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # The first Tab offers to skip the menu.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    next_call = page.get_by_role("button", name="Appeler le suivant")
    if not is_focused(next_call):
        tab_to(page, next_call)
    assert focus_ring(page) == {"style": "solid", "width": 3}
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    page.wait_for_load_state()  # the page's scripts have run
    page.evaluate(
        "window.settledSwaps = 0;"
        "document.addEventListener('htmx:afterSettle', () => { window.settledSwaps += 1; })"
    )
    microphone = page.get_by_role("button", name="Lancer le micro")
    expect(microphone).to_be_enabled()  # the recorder is ready

    page.keyboard.press("m")  # « Lancer le micro »
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement en cours")
    status = page.get_by_role("radiogroup", name="Statut numéros")
    expect(status.get_by_label("Décroche")).to_be_enabled()

    page.keyboard.press("4")  # « Décroche »
    expect(status.get_by_label("Décroche")).to_be_checked()
    call_status = page.get_by_role("radiogroup", name="Statut appel")
    expect(call_status.get_by_label("Accepte questionnaire")).to_be_enabled()
    expect(status.get_by_label("Décroche")).to_be_focused()  # kept across the draft save
    assert focus_ring(page) == {"style": "solid", "width": 3}

    page.keyboard.press("9")  # « Accepte questionnaire »
    expect(call_status.get_by_label("Accepte questionnaire")).to_be_checked()
    presentation = page.get_by_role("radiogroup", name="Présentation")
    expect(presentation.get_by_label("Partiel")).to_be_enabled()
    expect(call_status.get_by_label("Accepte questionnaire")).to_be_focused()

    # Tab into the next group, Space chooses, the arrows move within the group.
    page.keyboard.press("Tab")
    expect(presentation.get_by_label("Partiel")).to_be_focused()
    settled = page.evaluate("window.settledSwaps")
    page.keyboard.press("Space")
    expect(presentation.get_by_label("Partiel")).to_be_checked()
    expect(presentation.get_by_label("Partiel")).to_be_enabled()
    # The draft save of « Partiel » swaps the form: the arrow waits for it (on a loaded machine
    # the swap came after the arrow and put « Partiel » back).
    page.wait_for_function(f"window.settledSwaps > {settled}")
    page.keyboard.press("ArrowRight")
    expect(presentation.get_by_label("Complet")).to_be_checked()
    expect(presentation.get_by_label("Complet")).to_be_enabled()

    page.keyboard.press("g")  # « Questions libres » : « Complet »
    free = page.get_by_role("radiogroup", name="Questions libres")
    expect(free.get_by_label("Complet")).to_be_checked()
    expect(free.get_by_label("Complet")).to_be_enabled()
    page.keyboard.press("j")  # « Questions orientées » : « Complet »
    guided = page.get_by_role("radiogroup", name="Questions orientées")
    expect(guided.get_by_label("Complet")).to_be_checked()
    expect(guided.get_by_label("Complet")).to_be_enabled()

    # In the notes, the keys type text: none of them presses a button.
    page.keyboard.press("n")
    notes = page.get_by_label("Notes")
    expect(notes).to_be_focused()
    page.keyboard.type("Rappeler M. Kamga le 1er : 3 sites, 2 ?")
    expect(notes).to_have_value("Rappeler M. Kamga le 1er : 3 sites, 2 ?")
    expect(status.get_by_label("Décroche")).to_be_checked()
    expect(page.get_by_role("button", name="Arrêter l'enregistrement")).to_be_visible()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#draft-saved")).to_contain_text("Brouillon enregistré")

    submit = page.get_by_role("button", name="Valider", exact=True)
    tab_to(page, submit)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible()

    call = CallRecord.objects.get(company=company)
    assert call.submitted_at is not None and call.disposition == "1.1"
    assert call.notes == "Rappeler M. Kamga le 1er : 3 sites, 2 ?"
    assert (call.presentation_level, call.questions_libres_level) == ("complete", "complete")
    assert call.recordings.get().size_bytes > 0
    company.refresh_from_db()
    assert company.status == Status.DONE


def drawn_key(locator) -> str:
    """The key drawn on a button (generated content, so that it is not read as its name)."""
    return locator.evaluate(
        "element => getComputedStyle(element, '::after').content.split(' / ')[0]"
    ).strip('"')


def test_the_keys_are_shown_on_the_buttons(page, live_server, login, operator, company):
    open_call_form(page, live_server, login, operator, company)
    status = page.get_by_role("radiogroup", name="Statut numéros")
    labels = status.locator("label")
    expect(labels).to_have_text(["Invalide", "Pas de réponse", "Répondeur", "Décroche"])
    assert [drawn_key(labels.nth(n)) for n in range(4)] == ["1", "2", "3", "4"]
    # Read by screen readers as the key of the choice, not as part of its name.
    decroche = status.get_by_role("radio", name="Décroche", exact=True)
    expect(decroche).to_have_attribute("aria-keyshortcuts", "4")
    microphone = page.get_by_role("button", name="Lancer le micro", exact=True)
    assert drawn_key(microphone) == "M"
    assert drawn_key(page.get_by_role("button", name="Raccourcis clavier", exact=True)) == "?"


def test_a_key_does_nothing_while_the_pickers_wait_for_the_microphone(
    page, live_server, login, operator, company
):
    open_call_form(page, live_server, login, operator, company)
    page.keyboard.press("4")
    page.keyboard.press("1")
    page.wait_for_timeout(300)
    expect(page.get_by_label("Décroche")).not_to_be_checked()
    expect(page.get_by_label("Invalide")).not_to_be_checked()
    assert not CallRecord.objects.filter(company=company).exclude(status_numero="").exists()


def test_enter_on_a_choice_does_not_send_the_call(page, live_server, login, operator, company):
    """Browsers submit a form on Enter in a radio, with its first button (« Valider et appeler
    le suivant »): on the call form only the buttons send the call."""
    open_call_form(page, live_server, login, operator, company)
    without_recording = page.get_by_label("Continuer sans enregistrement vocal")
    tab_to(page, without_recording)
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Pas de réponse")).to_be_enabled()
    page.keyboard.press("2")
    expect(page.get_by_label("Pas de réponse")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    call = CallRecord.objects.get(company=company)
    assert call.status_numero == "no_answer" and call.submitted_at is None


def test_question_mark_lists_the_keys_and_escape_gives_the_focus_back(
    page, live_server, login, operator, company
):
    open_call_form(page, live_server, login, operator, company)
    without_recording = page.get_by_label("Continuer sans enregistrement vocal")
    tab_to(page, without_recording)
    page.keyboard.press("Space")
    expect(page.get_by_label("Décroche")).to_be_enabled()
    page.keyboard.press("3")  # « Répondeur »
    expect(page.get_by_label("Répondeur")).to_be_checked()
    expect(page.get_by_label("Répondeur")).to_be_focused()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Raccourcis clavier")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("row", name="M Lancer ou arrêter le micro")).to_be_visible()
    expect(dialog.get_by_role("row", name="Statut numéros")).to_contain_text(
        "1 Invalide 2 Pas de réponse 3 Répondeur 4 Décroche"
    )
    expect(dialog.get_by_role("row", name="Statut appel")).to_contain_text(
        "9 Accepte questionnaire"
    )
    expect(dialog.get_by_role("row", name="Questions orientées")).to_contain_text(
        "H Partiel J Complet"
    )
    expect(dialog.get_by_role("button", name="Fermer")).to_be_focused()
    page.keyboard.press("4")  # keys do nothing behind the open list
    expect(page.get_by_label("Répondeur")).to_be_checked()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Répondeur")).to_be_focused()

    # Typed in the notes, « ? » is text.
    page.keyboard.press("n")
    page.keyboard.type("Qui décide ?")
    expect(page.get_by_label("Notes")).to_have_value("Qui décide ?")
    expect(dialog).to_be_hidden()

    # The link beside « Valider » opens the same list; « Fermer » closes it.
    opener = page.get_by_role("button", name="Raccourcis clavier")
    tab_to(page, opener)
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")  # « Fermer » has the focus
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def remember(page, selector: str) -> None:
    """Keep a handle on the element now in the page, to check later that the same one (a live
    region screen readers already watch) carries the news, not a new one put in its place."""
    page.evaluate("selector => { window.liveRegion = document.querySelector(selector); }", selector)


def still_the_same(page, selector: str) -> bool:
    return page.evaluate(
        "selector => window.liveRegion === document.querySelector(selector)", selector
    )


def test_the_draft_save_is_announced(page, live_server, login, operator, company):
    open_call_form(page, live_server, login, operator, company)
    remember(page, "#draft-saved")
    page.get_by_label("Continuer sans enregistrement vocal").check()
    expect(page.get_by_label("Pas de réponse")).to_be_enabled()
    page.keyboard.press("2")  # « Pas de réponse »
    region = page.get_by_role("status").filter(has_text="Brouillon enregistré")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text(re.compile(r"Brouillon enregistré à \d\d:\d\d:\d\d"))
    assert still_the_same(page, "#draft-saved")


def test_the_recorder_state_is_announced(page, live_server, login, operator, company):
    open_call_form(page, live_server, login, operator, company)
    remember(page, "#mic-status")
    region = page.get_by_role("status").filter(has_text="Micro arrêté")
    expect(region).to_have_attribute("aria-live", "polite")
    page.keyboard.press("m")
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement en cours")
    page.keyboard.press("m")
    expect(page.get_by_role("status").filter(has_text="Enregistrement terminé")).to_be_visible()
    assert still_the_same(page, "#mic-status")


def test_a_lost_lease_is_announced(browser, live_server, login, operator, company):
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    open_call_form(page, live_server, login, operator, company)
    remember(page, "#lease-lost")

    other_tab = context.new_page()  # the same company opened again: that page holds it now
    other_tab.goto(f"{live_server.url}/appels/{company.pk}/remplir/")
    expect(other_tab.get_by_role("button", name="Lancer le micro")).to_be_visible()

    page.clock.run_for("00:31")  # the first page's next renewal
    region = page.get_by_role("status").filter(has_text="Verrou perdu")
    expect(region).to_contain_text("cette entreprise est ouverte dans une autre page")
    expect(region).to_have_attribute("aria-live", "polite")
    assert still_the_same(page, "#lease-lost")
    context.close()
