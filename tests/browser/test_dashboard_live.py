"""The dashboard stays open on a supervisor's second screen and updates by itself.

The operator's side is played through the data layer, exactly as a call form submit leaves
the database (claim, draft, submit: call submitted, company transition, lock released).
TODO(lead): once the call form is merged, drive that side through the operator's real UI in a
second browser context.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import CallRecord, Recording
from companies.models import Company

pytestmark = pytest.mark.browser


def operator_submits_a_call(company, operator):
    """What « Valider » does: the claimed company's call gets submitted, the company moves on."""
    now = timezone.now()
    Company.objects.filter(pk=company.pk).update(
        status="in_progress",
        status_before_claim=company.status,
        locked_by=operator,
        locked_at=now,
        lock_expires_at=now + timedelta(seconds=120),
    )
    call = CallRecord.objects.create(
        company=company, operator=operator, attempt=company.attempts + 1
    )
    call.status_numero = "answered"
    call.call_status = "accepted"
    call.presentation_level = call.questions_libres_level = "complete"
    call.questions_orientees_level = "complete"
    call.status_marked_at = call.submitted_at = timezone.now()
    call.disposition = call.outcome_disposition()
    call.save()
    Recording.objects.create(call=call, duration_seconds=95, is_complete=True)
    Company.objects.filter(pk=company.pk).update(
        status="done",
        status_before_claim="",
        disposition=call.disposition,
        attempts=call.attempt,
        last_called_at=call.submitted_at,
        locked_by=None,
        locked_at=None,
        lock_expires_at=None,
    )


def counter(page, name):
    return page.get_by_role("group", name=name)


def test_dashboard_updates_by_itself_after_an_operator_submits_a_call(
    page, live_server, login, supervisor, operator, campaign, make_company
):
    from companies.models import Campaign

    other = Campaign.objects.create(name="Autre campagne")
    company = make_company(name="Cacaoyère du Mungo")
    make_company(name="Savonnerie de Bonabéri", campaign=other)
    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()

    # The supervisor narrows the dashboard to one campaign (an htmx swap, the URL follows).
    with page.expect_response(re.compile(r"/dashboard/\?campaign=")):
        page.get_by_label("Campagne").select_option(label=campaign.name)
    expect(page).to_have_url(re.compile(rf"campaign={campaign.pk}"))
    expect(counter(page, "Entreprises")).to_have_text(re.compile(r"Entreprises\s*1\s*$"))
    expect(counter(page, "Appels aujourd'hui")).to_have_text(
        re.compile(r"Appels aujourd'hui\s*0\s*$")
    )
    queue = page.get_by_role("table", name="Santé de la file d'appels")
    expect(queue.get_by_role("row", name=re.compile("Appelables maintenant"))).to_contain_text("1")
    stamp = page.locator("#figures time").inner_text()
    page.evaluate("window.notReloaded = true")

    operator_submits_a_call(company, operator)

    # No reload, no click: the next poll brings the new figures.
    expect(counter(page, "Appels aujourd'hui")).to_have_text(
        re.compile(r"Appels aujourd'hui\s*1\s*$"), timeout=15_000
    )
    expect(counter(page, "Décroché")).to_have_text(re.compile(r"Décroché\s*1\s*$"))
    expect(counter(page, "Questionnaires acceptés")).to_contain_text("dont 1 complet")
    operators = page.get_by_role("table", name="Opérateurs sur la période")
    awa = operators.get_by_role("row").filter(has_text="Awa Ngo")
    expect(awa.get_by_role("cell").first).to_have_text("1")
    expect(awa).to_contain_text("1 min 35 s")
    expect(queue.get_by_role("row", name=re.compile("Terminées"))).to_contain_text("1")
    rates = page.get_by_role("table", name="Taux AAPOR")
    expect(rates.get_by_role("row", name=re.compile(r"^RR1 "))).to_contain_text("100,0 %")
    expect(page.get_by_role("status")).to_contain_text(
        "Aucune entreprise n'est appelable maintenant"
    )
    # Same page, same filters, a newer stamp.
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("Campagne")).to_have_value(str(campaign.pk))
    expect(counter(page, "Entreprises")).to_have_text(re.compile(r"Entreprises\s*1\s*$"))
    assert page.locator("#figures time").inner_text() != stamp


def test_polling_pauses_while_the_tab_is_hidden(page, live_server, login, supervisor, campaign):
    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/dashboard/" in r.url else None)
    page.wait_for_timeout(5_600)
    assert polls, "the figures poll every 5 s while the tab is visible"

    set_visibility(page, "hidden")
    polls.clear()
    page.wait_for_timeout(11_000)
    assert polls == [], "no polling while the tab is hidden"

    with page.expect_request(re.compile(r"/dashboard/"), timeout=2_000):
        set_visibility(page, "visible")
    # Back in view: refreshed at once, not at the next tick only.
    expect(page.locator("#figures")).to_be_visible()


def test_an_expired_session_takes_the_whole_page_to_the_login_form(
    page, live_server, login, supervisor
):
    from django.contrib.sessions.models import Session

    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/?period=7d")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()

    Session.objects.all().delete()  # what expiry does, without waiting 12 hours

    expect(page).to_have_url(re.compile(r"/appels/acces/\?next=/dashboard/"), timeout=15_000)
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_have_count(0)


def set_visibility(page, state):
    """What the browser does when the tab is hidden or shown again."""
    page.evaluate(
        """(state) => {
            const getter = {configurable: true, get: () => state};
            Object.defineProperty(document, "visibilityState", getter);
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )
