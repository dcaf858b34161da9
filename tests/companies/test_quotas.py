"""Quotas: cells on one or two company fields with a target of interviews (AAPOR 1.1, or 1.1 and
1.2). The rule (companies/quotas.py): a claim is refused for a company of a full cell; calls
already under way when the cell fills may finish and count, so a cell ends at most at its
target plus the calls of that cell in progress when it filled, and says so plainly."""

import threading
from functools import partial

import pytest
from django.urls import reverse

from companies import quotas
from companies.aapor import Disposition
from companies.lifecycle import Outcome
from companies.models import Company, QuotaCell, Status
from tests.conftest import make_operators, run_threads

COMPLETE, PARTIAL = Outcome(Disposition.COMPLETE), Outcome(Disposition.PARTIAL)


def interview(company, operator, outcome=COMPLETE):
    assert Company.objects.claim(company, operator)
    assert Company.objects.record_outcome(company, operator, outcome)


def cell(campaign, target, **fields) -> QuotaCell:
    (field1, value1), *second = fields.items()
    field2, value2 = second[0] if second else ("", "")
    return QuotaCell.objects.create(
        campaign=campaign, field1=field1, value1=value1, field2=field2, value2=value2, target=target
    )


def served(user):
    company = Company.objects.claim_next(user)
    if company is not None:
        company.release(user)
    return company


def test_a_full_cell_leaves_the_queue_and_the_others_stay(operator, campaign, make_company):
    cacao = [make_company(activity="cacao", validity_score=90 - n) for n in range(3)]
    cafe = make_company(activity="café", validity_score=10)
    cacao_cell = cell(campaign, 1, activity="cacao")
    interview(cacao[0], operator)
    cacao_cell.refresh_from_db()
    assert cacao_cell.completed == 1
    assert served(operator) == cafe
    assert not Company.objects.claim(cacao[1], operator)
    reasons = Company.objects.filter(pk__in=[c.pk for c in cacao[1:]]).with_queue_state()
    assert {c.queue_state for c in reasons} == {"quota_full"}


def test_companies_outside_every_cell_follow_the_campaign_setting(operator, campaign, make_company):
    outside = make_company(activity="café")
    cell(campaign, 5, activity="cacao")
    assert served(operator) == outside
    campaign.quota_others_callable = False
    campaign.save()
    assert served(operator) is None
    assert Company.objects.with_queue_state().get(pk=outside.pk).queue_state == "quota_outside"
    inside = make_company(activity="cacao")
    assert served(operator) == inside


def test_a_cell_on_two_fields(operator, campaign, make_company):
    douala = make_company(activity="cacao", location="Douala", validity_score=90)
    kribi = make_company(activity="cacao", location="Kribi", validity_score=50)
    cell(campaign, 1, activity="cacao", location="Douala")
    interview(make_company(activity="cacao", location="Douala"), operator)
    assert served(operator) == kribi
    assert not Company.objects.claim(douala, operator)


def test_partials_count_only_when_the_campaign_says_so(operator, campaign, make_company):
    waiting = make_company(activity="cacao")
    cacao = cell(campaign, 1, activity="cacao")
    interview(make_company(activity="cacao"), operator, PARTIAL)
    cacao.refresh_from_db()
    assert cacao.completed == 0 and served(operator) == waiting
    campaign.quota_counts_partials = True
    campaign.save()
    quotas.recount(campaign)  # the campaign page does it when the setting changes
    cacao.refresh_from_db()
    assert cacao.completed == 1 and served(operator) is None


def test_calls_under_way_may_finish_and_the_cell_says_it_went_over(
    operator, operator2, campaign, make_company
):
    first, second = make_company(activity="cacao"), make_company(activity="cacao")
    cell(campaign, 1, activity="cacao")
    assert Company.objects.claim(first, operator)
    assert Company.objects.claim(second, operator2)
    assert Company.objects.record_outcome(first, operator, COMPLETE)  # the cell is full
    assert Company.objects.record_outcome(second, operator2, COMPLETE)  # finished all the same
    (row,) = quotas.quota_rows(campaign)
    assert (row.target, row.completed, row.remaining, row.over_target) == (1, 2, 0, 1)


def test_a_new_code_moves_the_count(operator, campaign, make_company):
    company = make_company(activity="cacao")
    cacao = cell(campaign, 3, activity="cacao")
    interview(company, operator)
    company.reopen()
    interview(company, operator, Outcome(Disposition.REFUSAL))  # its latest code is 2.11 now
    cacao.refresh_from_db()
    assert cacao.completed == 0


def test_raising_the_target_reopens_the_cell(client, supervisor, operator, campaign, make_company):
    waiting = make_company(activity="cacao")
    cacao = cell(campaign, 1, activity="cacao")
    interview(make_company(activity="cacao"), operator)
    assert served(operator) is None
    client.force_login(supervisor)
    client.post(reverse("companies:quota_target", args=[campaign.pk, cacao.pk]), {"target": 2})
    assert served(operator) == waiting


def test_an_import_that_moves_companies_between_cells_recounts(
    run_import, operator, campaign, make_company
):
    company = make_company(name="Ets Un", phone="677000101", niu="N1", activity="cacao")
    cacao, cafe = cell(campaign, 5, activity="cacao"), cell(campaign, 5, activity="café")
    interview(company, operator)
    run_import(
        b"name;phone;niu;activity\nEts Un;677000101;N1;caf\xc3\xa9\n", mode="add", campaign=campaign
    )
    cacao.refresh_from_db()
    cafe.refresh_from_db()
    assert (cacao.completed, cafe.completed) == (0, 1)


# --- The quota page ---------------------------------------------------------------------------


def test_supervisors_add_change_and_delete_cells(
    client, supervisor, operator, campaign, make_company
):
    interview(make_company(activity="cacao", location="Douala"), operator)
    client.force_login(supervisor)
    url = reverse("companies:campaign_quotas", args=[campaign.pk])
    page = client.get(url).text
    assert "Aucune cellule de quota" in page and '<option value="cacao">' in page
    response = client.post(
        url,
        {
            "field1": "activity",
            "value1": " cacao ",
            "field2": "location",
            "value2": "Douala",
            "target": 3,
        },
    )
    assert response.status_code == 302
    added = QuotaCell.objects.get()
    assert (added.value1, added.value2, added.completed) == (
        "cacao",
        "Douala",
        1,
    )  # counted at once
    page = client.get(url).text
    assert "Activité = cacao × Localisation = Douala" in page and "Ouvert" in page
    client.post(reverse("companies:quota_target", args=[campaign.pk, added.pk]), {"target": 1})
    assert "Atteint" in client.get(url).text
    client.post(reverse("companies:quota_delete", args=[campaign.pk, added.pk]))
    assert not QuotaCell.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "field1": "activity",
                "value1": "cacao",
                "field2": "activity",
                "value2": "x",
                "target": 1,
            },
            "autre champ",
        ),
        (
            {
                "field1": "activity",
                "value1": "cacao",
                "field2": "location",
                "value2": "",
                "target": 1,
            },
            "valeur du second champ",
        ),
        (
            {"field1": "activity", "value1": "cacao", "field2": "", "value2": "", "target": 0},
            "supérieure ou égale à 1",
        ),
        (
            {"field1": "status", "value1": "done", "field2": "", "value2": "", "target": 1},
            "Sélectionnez un choix valide",
        ),
        (
            {"field1": "activity", "value1": "cacao", "field2": "", "value2": "", "target": 4},
            "existe déjà",
        ),
    ],
)
def test_bad_cells_are_explained_and_change_nothing(client, supervisor, campaign, data, message):
    cell(campaign, 2, activity="cacao")
    client.force_login(supervisor)
    response = client.post(reverse("companies:campaign_quotas", args=[campaign.pk]), data)
    assert response.status_code == 422 and message in response.text
    assert list(QuotaCell.objects.values_list("target", flat=True)) == [2]


def test_operators_cannot_change_quotas(client, operator, campaign):
    cacao = cell(campaign, 2, activity="cacao")
    client.force_login(operator)
    url = reverse("companies:quota_target", args=[campaign.pk, cacao.pk])
    assert client.post(url, {"target": 100}).status_code == 403
    assert client.get(reverse("companies:campaign_quotas", args=[campaign.pk])).status_code == 403
    cacao.refresh_from_db()
    assert cacao.target == 2


def test_a_cell_of_another_campaign_is_not_found(client, supervisor, campaign):
    from companies.models import Campaign

    other = Campaign.objects.create(name="Autre")
    cacao = cell(other, 2, activity="cacao")
    client.force_login(supervisor)
    response = client.post(reverse("companies:quota_delete", args=[campaign.pk, cacao.pk]))
    assert response.status_code == 404 and QuotaCell.objects.exists()


def test_the_dashboard_shows_each_cell_and_says_plainly_when_it_went_over(
    client, supervisor, operator, operator2, campaign, make_company
):
    first, second, third = (make_company(activity="cacao") for _ in range(3))
    cell(campaign, 1, activity="cacao")
    Company.objects.claim(first, operator)
    Company.objects.claim(second, operator2)
    Company.objects.record_outcome(first, operator, COMPLETE)
    client.force_login(supervisor)
    page = client.get(reverse("calls:dashboard"), {"campaign": campaign.pk}).text
    assert 'id="quota-table"' in page and "Activité = cacao" in page
    assert "Atteint : ses entreprises ne sont plus appelées" in page
    Company.objects.record_outcome(second, operator2, COMPLETE)
    page = client.get(
        reverse("calls:dashboard"), {"campaign": campaign.pk}, headers={"HX-Request": "true"}
    ).text
    assert "Dépassé de 1 entretien" in page


# --- Twenty operators filling one cell at once -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_operators_filling_one_cell_stop_at_the_target_plus_calls_under_way(campaign):
    """The stated rule under concurrency: no company of the cell is given once the cell is
    full, each call under way when it filled may finish, so the cell ends between its target
    and its target plus the operators still calling it (at most 19 here)."""
    operators = make_operators(20)
    Company.objects.bulk_create(
        Company(campaign=campaign, name=f"C{i}", phone=f"6770{i:05d}", activity="cacao")
        for i in range(80)
    )
    target = 10
    cacao = cell(campaign, target, activity="cacao")
    served_to: dict[int, list[int]] = {}
    barrier = threading.Barrier(len(operators))

    def work(user):
        barrier.wait()
        while (company := Company.objects.claim_next(user)) is not None:
            served_to.setdefault(company.pk, []).append(user.pk)
            assert Company.objects.record_outcome(company, user, COMPLETE)

    run_threads(*[partial(work, user) for user in operators])
    assert all(len(holders) == 1 for holders in served_to.values())  # never two operators
    cacao.refresh_from_db()
    completes = Company.objects.filter(disposition=Disposition.COMPLETE).count()
    assert cacao.completed == completes == len(served_to)  # every interview counted once
    assert target <= completes <= target + len(operators) - 1
    assert Company.objects.filter(status=Status.PENDING).count() == 80 - completes
    assert Company.objects.claim_next(operators[0]) is None  # the rest left the queue
