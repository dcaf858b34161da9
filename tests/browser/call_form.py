"""What an operator does in the call form, shared by the browser tests."""

from playwright.sync_api import expect


def answer_a_complete_interview(page) -> None:
    """« Décroche » → « Accepte questionnaire » → the three levels « Complet »; each click is
    saved as a draft at once, so the last one is awaited. A company with several numbers asks
    which one was dialled: the first one offered."""
    numbers = page.get_by_role("radiogroup", name="Numéro appelé")
    if numbers.count():
        numbers.locator("label").first.click()
    page.get_by_text("Décroche", exact=True).click()
    page.get_by_text("Accepte questionnaire", exact=True).click()
    for group in ("Présentation", "Questions libres", "Questions orientées"):
        page.get_by_role("radiogroup", name=group).get_by_text("Complet").click()
    expect(
        page.get_by_role("radiogroup", name="Questions orientées").get_by_label("Complet")
    ).to_be_checked()


def record_a_complete_interview(page, mic_timeout=10_000) -> None:
    """« Lancer le micro », wait for the first chunks to reach the server, answer a complete
    interview while it records, then « Valider »: the call is saved with its recording."""
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-status")).to_contain_text("Ko envoyés", timeout=mic_timeout)
    answer_a_complete_interview(page)
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible()
