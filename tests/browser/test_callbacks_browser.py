"""The callback calendar in real Chromium: week navigation without reloading the page, and a
supervisor handing an absent operator's callbacks over."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from companies.models import Company, Status

pytestmark = pytest.mark.browser


def at(day, hour) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 30)))


def test_a_supervisor_browses_weeks_and_hands_callbacks_over(
    page, live_server, login, supervisor, operator, operator2, make_company
):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    this_week = make_company(
        name="Brasserie du Nyong",
        status=Status.CALLBACK,
        callback_at=at(monday + timedelta(3), 10),
        callback_operator=operator2,
    )
    next_week = make_company(
        name="Rizerie de Yagoua",
        status=Status.CALLBACK,
        callback_at=at(monday + timedelta(8), 14),
        callback_operator=operator2,
    )
    login(page, supervisor)
    page.get_by_role("link", name="Rappels").click()
    expect(page.get_by_role("heading", name="Rappels", exact=True)).to_be_visible()
    calendar = page.get_by_role("table", name="Rendez-vous de rappel par jour et par heure")
    expect(calendar.get_by_role("link", name="Brasserie du Nyong")).to_be_visible()
    expect(
        calendar.get_by_role("row", name=re.compile("^10:00")).get_by_text("Paul Eto")
    ).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Semaine suivante »").click()
    expect(page).to_have_url(re.compile(rf"semaine={monday + timedelta(7):%Y-%m-%d}"))
    expect(calendar.get_by_role("link", name="Rizerie de Yagoua")).to_be_visible()
    expect(calendar.get_by_role("link", name="Brasserie du Nyong")).to_have_count(0)
    page.get_by_role("link", name="« Semaine précédente").click()
    expect(calendar.get_by_role("link", name="Brasserie du Nyong")).to_be_visible()

    page.get_by_label("Rappels personnels de").select_option(label="Paul Eto")
    page.get_by_label("À confier à").select_option(label="Awa Ngo")
    page.get_by_role("button", name="Confier").click()
    expect(page.get_by_role("status")).to_contain_text(
        "2 rappels personnels de Paul Eto confiés à Awa Ngo."
    )
    expect(
        calendar.get_by_role("row", name=re.compile("^10:00")).get_by_text("Awa Ngo")
    ).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    for company in (this_week, next_week):
        assert Company.objects.get(pk=company.pk).callback_operator == operator


def test_an_operator_sees_only_theirs_and_the_shared_ones(
    page, live_server, login, operator, operator2, make_company
):
    today = timezone.localdate()
    make_company(
        name="Mon rappel",
        status=Status.CALLBACK,
        callback_at=at(today, 11),
        callback_operator=operator,
    )
    make_company(name="Rappel partagé", status=Status.CALLBACK, callback_at=at(today, 12))
    make_company(
        name="Rappel de Paul",
        status=Status.CALLBACK,
        callback_at=at(today, 13),
        callback_operator=operator2,
    )
    login(page, operator)
    page.goto(f"{live_server.url}/rappels/")
    expect(page.get_by_role("link", name="Mon rappel")).to_be_visible()
    expect(page.get_by_role("link", name="Rappel partagé")).to_be_visible()
    expect(page.get_by_role("link", name="Rappel de Paul")).to_have_count(0)
    expect(page.get_by_role("button", name="Confier")).to_have_count(0)
