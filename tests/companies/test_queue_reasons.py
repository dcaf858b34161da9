"""The queue explains itself: every company is callable or has exactly one reason, counted by
the dashboard's queue health (with the next opening of those outside their window), and the
company page says why that company is not callable now and when it will be."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calls.dashboard import company_figures, queue_health
from companies import donotcall
from companies.models import Campaign, Company, QuotaCell, Status
from tests.factories import CompanyFactory

DOUALA = ZoneInfo("Africa/Douala")
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=DOUALA)


@pytest.fixture
def world(supervisor):
    """One company per reason in a campaign with the fieldwork defaults, on a Wednesday at 10:00
    in Douala."""
    ruled = Campaign.objects.create(name="Règles de terrain", quota_others_callable=False)
    QuotaCell.objects.create(campaign=ruled, field1="activity", value1="plein", target=0)
    QuotaCell.objects.create(campaign=ruled, field1="activity", value1="cacao", target=10)

    def make(**fields):
        return CompanyFactory(campaign=ruled, **{"activity": "cacao", **fields})

    later = WEDNESDAY_10 + timedelta(hours=2)
    companies = {
        "callable": make(),
        "locked": make(status=Status.IN_PROGRESS, lock_expires_at=later, locked_by=supervisor),
        "callback_later": make(status=Status.CALLBACK, next_call_at=later, callback_at=later),
        "retry_later": make(disposition="3.13", next_call_at=later),
        "conversion_later": make(disposition="2.11", next_call_at=later),
        "outside_hours": make(phone="+1 212 736 5000"),  # 04:00 in New York
        "part_tried": make(parts_tried="m"),
        "do_not_call": make(phone="6 99 00 00 01"),
        "quota_full": make(activity="plein"),
        "quota_outside": make(activity="café"),
        "exhausted": make(status=Status.DONE, disposition="3.14"),
        "finished": make(status=Status.DONE, disposition="1.1"),
        "archived": make(is_archived=True),
    }
    donotcall.add(phone="6 99 00 00 01", reason="Plainte", user=supervisor)
    closed = Campaign.objects.create(name="Fermée aujourd'hui", closed_days=["2026-12-02"])
    companies["closed_day"] = CompanyFactory(campaign=closed)
    inactive = Campaign.objects.create(name="Inactive", is_active=False)
    companies["inactive"] = CompanyFactory(campaign=inactive)
    with time_machine.travel(WEDNESDAY_10, tick=False):
        yield companies


def test_every_company_has_one_reason_and_the_dashboard_counts_them(world):
    reasons = dict(Company.objects.with_queue_state().values_list("pk", "queue_state"))
    assert {reason: reasons[company.pk] for reason, company in world.items()} == {
        reason: reason for reason in world
    }
    queue = queue_health(company_figures(None, timezone.now()))
    counts = {line.key: line.count for line in queue.lines}
    assert counts == dict.fromkeys(world, 1)
    assert queue.total == len(world) and queue.callable == 1
    assert Company.objects.claimable().count() == 1  # the same condition as the claim


def test_the_next_opening_is_said_for_those_outside_their_window(world):
    Company.objects.filter(pk=world["callable"].pk).update(is_archived=True)
    queue = queue_health(company_figures(None, timezone.now()))
    lines = {line.key: line for line in queue.lines}
    new_york_opens = datetime(2026, 12, 2, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert lines["outside_hours"].next_opening == new_york_opens
    assert lines["outside_hours"].display == (
        "Hors des heures d'appel (prochaine ouverture le 02/12/2026 14:00)"
    )
    assert lines["closed_day"].next_opening == datetime(2026, 12, 3, 8, 0, tzinfo=DOUALA)
    # The first to become callable: the morning-tried company at 11:00 (midday).
    assert queue.callable == 0
    assert queue.next_due == datetime(2026, 12, 2, 11, 0, tzinfo=DOUALA)
    assert queue.explanation[0] == "Aucune entreprise n'est appelable maintenant :"
    assert "Liste « Ne plus appeler » : 1" in queue.explanation
    assert queue.explanation[-1] == "Prochaine entreprise appelable le 02/12/2026 11:00."


def test_the_dashboard_shows_the_new_reasons(client, supervisor, world):
    client.force_login(supervisor)
    page = client.get(reverse("calls:dashboard")).text
    for label in [
        "Hors des heures d&#x27;appel (prochaine ouverture le 02/12/2026 14:00)",
        "Jour férié ou jour de fermeture (prochaine ouverture le 03/12/2026 08:00)",
        "Essais répartis : partie de la journée déjà essayée",
        "Liste « Ne plus appeler »",
        "Quota atteint",
        "Hors des cellules de quota",
        "Conversion de refus programmée",
    ]:
        assert label in page, label


@pytest.mark.parametrize(
    ("reason", "sentence", "until"),
    [
        ("callable", "Appelable maintenant.", None),
        (
            "outside_hours",
            "Hors des heures d'appel",
            "Appelable à partir du mercredi 02/12/2026 14:00.",
        ),
        (
            "closed_day",
            "Jour férié ou jour de fermeture",
            "Appelable à partir du jeudi 03/12/2026 08:00.",
        ),
        ("part_tried", "Essais répartis", "Appelable à partir du mercredi 02/12/2026 11:00."),
        (
            "retry_later",
            "Délai avant nouvel essai en cours.",
            "Appelable à partir du mercredi 02/12/2026 12:00.",
        ),
        (
            "callback_later",
            "Rappel prévu plus tard.",
            "Appelable à partir du mercredi 02/12/2026 12:00.",
        ),
        (
            "do_not_call",
            "Sur la liste « Ne plus appeler ».",
            "Elle ne le redeviendra pas d'elle-même.",
        ),
        ("quota_full", "Son quota est atteint.", "Elle ne le redeviendra pas d'elle-même."),
        ("inactive", "Sa campagne est inactive.", "Elle ne le redeviendra pas d'elle-même."),
    ],
)
def test_the_company_page_says_why_and_until_when(
    client, supervisor, world, reason, sentence, until
):
    client.force_login(supervisor)
    page = client.get(reverse("companies:company", args=[world[reason].pk]))
    text = page.text.replace("&#x27;", "'")
    assert sentence in text
    if until:
        assert until in text
    else:
        assert 'data-testid="queue-until"' not in text


def test_the_company_page_gives_the_do_not_call_entry_and_the_full_cell(client, supervisor, world):
    client.force_login(supervisor)
    listed = client.get(reverse("companies:company", args=[world["do_not_call"].pk])).text
    assert "par Marie Fouda : « Plainte »" in listed
    full = client.get(reverse("companies:company", args=[world["quota_full"].pk])).text
    assert "Cellule « Activité = plein » : 0 réalisés pour un objectif de 0." in full


def test_an_empty_queue_tells_the_operator_why(client, operator, world):
    Company.objects.filter(pk=world["callable"].pk).update(status=Status.DONE)
    client.force_login(operator)
    response = client.post(reverse("calls:next"), follow=True)
    message = str(next(iter(response.context["messages"])))
    assert message.startswith("Aucune entreprise à appeler pour le moment.")
    assert "Hors des heures d'appel (prochaine ouverture le 02/12/2026 14:00) : 1" in message
    assert message.endswith("Prochaine entreprise appelable le 02/12/2026 11:00.")


def test_a_refused_call_says_why_and_when(client, operator, world):
    client.force_login(operator)
    response = client.post(reverse("calls:start", args=[world["outside_hours"].pk]), follow=True)
    message = str(next(iter(response.context["messages"])))
    assert "n'est pas appelable maintenant : Hors des heures d'appel" in message
    assert message.endswith("Appelable à partir du 02/12/2026 14:00.")


def test_the_call_list_disables_what_the_queue_skips(client, operator, world):
    client.force_login(operator)
    page = client.get(reverse("calls:list")).text
    row = page.split(f'id="company-{world["do_not_call"].pk}"')[1].split("</tr>")[0]
    assert "Liste « Ne plus appeler »" in row and "disabled" in row
    row = page.split(f'id="company-{world["callable"].pk}"')[1].split("</tr>")[0]
    assert "disabled" not in row
