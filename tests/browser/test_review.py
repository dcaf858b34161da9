"""A review from the queue to the verdict, in real Chromium: an operator records a call, which
the campaign's rate sends to the queue; the supervisor plays it, scores it (an eliminatory
failure cannot be « Validé »), gives a verdict; the operator sees it on their home page."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from calls.models import Listen
from quality.models import Criterion, ReviewItem, ReviewPolicy
from tests.browser.call_form import record_a_complete_interview

pytestmark = pytest.mark.browser


def operator_records_a_call(browser, login, operator):
    page = browser.new_context().new_page()
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    record_a_complete_interview(page)
    return page


def test_a_supervisor_reviews_a_call_from_the_queue_to_the_verdict(
    browser, page, live_server, login, operator, supervisor, company
):
    ReviewPolicy.objects.create(campaign=company.campaign, sample_percent=Decimal("100"))
    Criterion.objects.create(campaign=company.campaign, label="Présentation faite", position=1)
    Criterion.objects.create(
        campaign=company.campaign, label="Consentement demandé", is_eliminatory=True, position=2
    )
    operator_page = operator_records_a_call(browser, login, operator)

    login(page, supervisor)
    page.get_by_role("link", name="Contrôle qualité").click()
    row = page.get_by_role("row").filter(has_text=company.name)
    expect(row).to_contain_text("Tirage aléatoire")
    row.get_by_role("link", name="Évaluer").click()
    expect(page.get_by_role("heading", name=f"Appel à {company.name}")).to_be_visible()
    expect(page.get_by_text("Accepte questionnaire")).to_be_visible()

    # The player: nothing is fetched before it plays; playing it is one listen.
    assert not Listen.objects.exists()
    audio = page.get_by_label("Enregistrement 1 de l’appel")
    audio.evaluate("audio => audio.play().catch(() => {})")
    page.wait_for_function("document.querySelector('audio').readyState >= 1", timeout=10_000)
    assert Listen.objects.filter(user=supervisor).count() == 1

    scorecard = page.get_by_role("region", name="Grille d'évaluation")
    scorecard.get_by_role("radiogroup", name="Présentation faite").get_by_text(
        "Respecté", exact=True
    ).click()
    scorecard.get_by_role("radiogroup", name="Consentement demandé").get_by_text(
        "Non respecté", exact=True
    ).click()
    scorecard.get_by_role("radiogroup", name="Verdict").get_by_text("Validé", exact=True).click()
    scorecard.get_by_label("Commentaire").fill("Consentement oublié : à reprendre.")
    scorecard.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(page.get_by_text("ne peut pas être « Validé »")).to_be_visible()
    assert ReviewItem.objects.get().verdict == ""

    scorecard = page.get_by_role("region", name="Grille d'évaluation")
    scorecard.get_by_role("radiogroup", name="Verdict").get_by_text("À revoir", exact=True).click()
    scorecard.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(page.get_by_role("alert").filter(has_text="Évaluation enregistrée")).to_be_visible()
    item = ReviewItem.objects.get()
    assert (item.verdict, item.reviewer, item.comment) == (
        "redo",
        supervisor,
        "Consentement oublié : à reprendre.",
    )

    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role(
        "link", name="Contrôle qualité"
    ).click()
    expect(page.get_by_text("Aucun appel à contrôler avec ces filtres.")).to_be_visible()

    operator_page.goto(f"{live_server.url}/")
    review = operator_page.get_by_test_id("my-review")
    expect(review).to_contain_text("À revoir")
    expect(review).to_contain_text("Consentement oublié : à reprendre.")
    expect(review).to_contain_text("✘ Consentement demandé")
