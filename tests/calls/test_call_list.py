"""The call list: filters, htmx fragments, lock indicators, callbacks first."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.models import Company, Status
from tests.query_plans import assert_read_in_index_order

HTMX = {"HX-Request": "true"}


def test_the_list_shows_companies_with_status_and_a_call_button(client, operator, company):
    client.force_login(operator)
    response = client.get(reverse("calls:list"))
    assert response.status_code == 200
    assert company.name in response.text
    assert "Lancer un appel" in response.text and "À appeler" in response.text


def test_filters_answer_with_the_results_fragment_only(client, operator, make_company):
    make_company(name="Boulangerie Kribi", location="Kribi")
    make_company(name="Huilerie Garoua", location="Garoua")
    client.force_login(operator)
    response = client.get(reverse("calls:list"), {"location": "kribi"}, headers=HTMX)
    assert "<html" not in response.text and 'id="results"' in response.text
    assert "Boulangerie Kribi" in response.text and "Huilerie Garoua" not in response.text
    assert response["Vary"].count("HX-Request") == 1


def test_text_search_matches_name_niu_and_phone_digits(client, operator, make_company):
    make_company(name="Alpha", niu="P123456789012Z", phone="+237 6 99 11 22 33")
    make_company(name="Beta")
    client.force_login(operator)
    for query in ("alpha", "P1234567", "99112233"):
        response = client.get(reverse("calls:list"), {"q": query}, headers=HTMX)
        assert "Alpha" in response.text and "Beta" not in response.text, query


def test_a_history_restore_gets_the_whole_page(client, operator):
    client.force_login(operator)
    response = client.get(
        reverse("calls:list"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.text


def test_fifty_rows_a_page(client, operator, make_company):
    for _ in range(51):
        make_company()
    client.force_login(operator)
    first = client.get(reverse("calls:list"))
    assert first.text.count('data-company-id="') == 50
    second = client.get(reverse("calls:list"), {"page": 2})
    assert second.text.count('data-company-id="') == 1


class TableCells(HTMLParser):
    """The header texts of #call-table and the cell texts of each of its rows, by row id."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self._row, self._cell = [], {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("id", "").startswith("company-"):
            self._row = self.rows.setdefault(attrs["id"], [])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            (self.headers if tag == "th" else self._row).append(text)
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_each_cell_sits_under_its_header(client, operator, operator2, make_company):
    free = make_company(name="Huilerie Libre", location="Kribi", validity_score=Decimal("87.5"))
    held = make_company(name="Savonnerie Prise", activity="")
    Company.objects.claim(held, operator2)
    client.force_login(operator)
    parser = TableCells()
    parser.feed(client.get(reverse("calls:list")).text)
    headers = [header.rstrip(" ▲▼") for header in parser.headers]
    assert headers[0] == "Entreprise" and headers[-1] == "Actions"
    row = dict(zip(headers, parser.rows[f"company-{free.pk}"], strict=True))
    assert row["Entreprise"] == "Huilerie Libre" and row["Localisation"] == "Kribi"
    assert row["Téléphone"] == free.phone and row["Activité"] == "transformation"
    assert row["Score"] == "87,50" and row["Statut"] == "À appeler"
    assert row["Tentatives"] == "0" and row["Rappel"] == "—"
    assert row["Verrou"] == "libre" and row["Actions"] == "Lancer un appel"
    row = dict(zip(headers, parser.rows[f"company-{held.pk}"], strict=True))
    assert row["Activité"] == "—" and row["Statut"] == "En cours"
    assert row["Verrou"].startswith("En cours : Paul Eto")


def test_due_callbacks_are_first_and_highlighted(client, operator, make_company):
    make_company(name="Aaa pending", validity_score=99)
    due = make_company(
        name="Zzz callback",
        status=Status.CALLBACK,
        callback_at=timezone.now() - timedelta(minutes=10),
    )
    client.force_login(operator)
    text = client.get(reverse("calls:list")).text
    assert text.index("Zzz callback") < text.index("Aaa pending")
    row = re.search(rf'<tr[^>]*id="company-{due.pk}"[^>]*>', text).group(0)
    assert "table-callback-due" in row


def test_a_locked_company_shows_who_and_disables_the_button_for_others(
    client, operator, operator2, company
):
    Company.objects.claim(company, operator)
    client.force_login(operator2)
    response = client.get(reverse("calls:lock_states"), {"ids": str(company.pk)})
    assert 'hx-swap-oob="true"' in response.text
    assert "Awa Ngo" in response.text
    assert "disabled" in response.text
    client.force_login(operator)
    assert (
        "Reprendre l'appel"
        in client.get(reverse("calls:lock_states"), {"ids": str(company.pk)}).text
    )


def test_lock_states_ignore_garbage_ids(client, operator):
    client.force_login(operator)
    response = client.get(reverse("calls:lock_states"), {"ids": "1,abc,;drop"})
    assert response.status_code == 200


def test_starting_a_call_on_a_locked_company_says_who_has_it(client, operator, operator2, company):
    Company.objects.claim(company, operator)
    client.force_login(operator2)
    response = client.post(reverse("calls:start", args=[company.pk]), follow=True)
    assert "déjà en cours d&#x27;appel par Awa Ngo" in response.text


def test_home_shows_the_operators_day_and_the_next_call_button(client, operator):
    client.force_login(operator)
    response = client.get(reverse("calls:home"))
    assert "Appeler le suivant" in response.text and "Mes appels aujourd" in response.text


def test_the_list_is_read_in_the_order_of_its_index_not_sorted(client, operator, make_company):
    """At a million companies a sort takes a second, the index scan a millisecond."""
    for _ in range(3):
        make_company()
    client.force_login(operator)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("calls:list"))
    (listing,) = [q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]]
    assert_read_in_index_order("company_call_list_idx", listing)


def status_cell(response, company) -> str:
    match = re.search(rf'<td id="status-{company.pk}"[^>]*>(.*?)</td>', response.text, re.S)
    return match.group(1)


def test_a_lapsed_lease_shows_the_status_the_queue_sees(client, operator, operator2, make_company):
    lapsed, live = make_company(name="Oubliée"), make_company(name="En ligne")
    Company.objects.claim(lapsed, operator2)
    client.force_login(operator)
    with time_machine.travel(timezone.now() + timedelta(seconds=300)):
        Company.objects.claim(live, operator)
        page = client.get(reverse("calls:list"))
        polled = client.get(reverse("calls:lock_states"), {"ids": f"{lapsed.pk},{live.pk}"})
        in_progress = client.get(reverse("calls:list"), {"status": "in_progress"}, headers=HTMX)
        pending = client.get(reverse("calls:list"), {"status": "pending"}, headers=HTMX)
    for response in (page, polled):
        assert "À appeler" in status_cell(response, lapsed)
        assert "En cours" in status_cell(response, live)
    assert "Oubliée" not in in_progress.text and "En ligne" in in_progress.text
    assert "Oubliée" in pending.text and "En ligne" not in pending.text


def count_queries(queries) -> int:
    return sum("SELECT COUNT(*)" in q["sql"] for q in queries)


def test_the_pager_counts_the_queue_once_for_the_same_filters(client, operator, make_company):
    for number in range(55):
        make_company(name=f"Entreprise {number:02d}", location="Kribi" if number < 3 else "Buea")
    client.force_login(operator)

    with CaptureQueriesContext(connection) as first:
        response = client.get(reverse("calls:list"))
    assert "sur 55" in response.text and count_queries(first) == 1
    with CaptureQueriesContext(connection) as again:
        response = client.get(reverse("calls:list"), {"page": 2, "sort": "-name"})
    assert "Lignes 51 à 55 sur 55" in response.text and count_queries(again) == 0
    with CaptureQueriesContext(connection) as filtered:
        response = client.get(reverse("calls:list"), {"location": "kribi"}, headers=HTMX)
    assert "3 lignes" in response.text and count_queries(filtered) == 1

    make_company(name="Arrivée après")
    later_on = time_machine.travel(timezone.now() + timedelta(seconds=31))
    with later_on, CaptureQueriesContext(connection) as later:
        response = client.get(reverse("calls:list"))
    assert "sur 56" in response.text and count_queries(later) == 1
