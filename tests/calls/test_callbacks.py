"""/rappels/: the week's callback appointments by day and hour; handing an absent operator's
personal callbacks over."""

import html
from datetime import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from companies.models import Company, Status
from tests.conftest import make_user

URL = reverse("calls:callbacks")
HAND_OVER = reverse("calls:callbacks_hand_over")
HTMX = {"HX-Request": "true"}
# Wednesday 25 November 2026, 10:00 in Douala; its week starts on Monday the 23rd.
NOW = datetime(2026, 11, 25, 10, 0)


def text(response) -> str:
    return html.unescape(response.content.decode())


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(timezone.make_aware(NOW), tick=False):
        yield


@pytest.fixture
def appointments(make_company, operator, operator2):
    def callback(name, when, who=None, **fields):
        return make_company(
            name=name,
            status=Status.CALLBACK,
            callback_at=when,
            next_call_at=when,
            callback_operator=who,
            **fields,
        )

    return {
        "mine": callback("Ets Mon Rappel", local(2026, 11, 26, 9, 30), operator),
        "shared": callback("Ets Partagé", local(2026, 11, 27, 15, 0)),
        "theirs": callback("Ets Leur Rappel", local(2026, 11, 26, 11, 0), operator2),
        "late": callback("Ets En Retard", local(2026, 11, 24, 8, 15), operator),
        "early": callback("Ets Aube", local(2026, 11, 28, 6, 45)),
        "last_week": callback("Ets Oublié", local(2026, 11, 18, 16, 0)),
        "next_week": callback("Ets Lundi Prochain", local(2026, 11, 30, 10, 0), operator),
        "done": make_company(
            name="Ets Terminé", status=Status.DONE, callback_at=local(2026, 11, 26, 9, 0)
        ),
    }


def cell(response, company):
    """The calendar cell of an appointment: its hour (row) and day (column)."""
    for row in response.context["week"].hours:
        for day, companies in enumerate(row.cells):
            if any(c.pk == company.pk for c in companies):
                return row.hour, day
    return None


def test_an_operator_sees_theirs_and_the_shared_ones_by_day_and_hour(
    client, operator, appointments
):
    client.force_login(operator)
    response = client.get(URL)
    assert response.status_code == 200
    content = text(response)
    assert "Semaine du 23/11/2026 au 29/11/2026" in content
    assert cell(response, appointments["mine"]) == (9, 3)
    assert cell(response, appointments["shared"]) == (15, 4)
    assert cell(response, appointments["early"]) == (6, 5)  # the grid widens to 06:00
    assert cell(response, appointments["theirs"]) is None
    assert cell(response, appointments["next_week"]) is None
    assert cell(response, appointments["done"]) is None
    assert "Ets Leur Rappel" not in content and "Confier" not in content


def test_overdue_appointments_are_marked(client, operator, appointments):
    client.force_login(operator)
    response = client.get(URL)
    (late,) = [
        c
        for row in response.context["week"].hours
        for cs in row.cells
        for c in cs
        if c.pk == appointments["late"].pk
    ]
    assert late.is_overdue
    mine = [
        c
        for row in response.context["week"].hours
        for cs in row.cells
        for c in cs
        if c.pk == appointments["mine"].pk
    ]
    assert not mine[0].is_overdue
    content = text(response)
    assert content.count("en retard</span>") == 1
    # A forgotten one of an earlier week is listed above the grid.
    assert "1 rappel en retard d'une semaine précédente" in content and "Ets Oublié" in content


def test_a_supervisor_sees_every_appointment(client, supervisor, appointments):
    client.force_login(supervisor)
    response = client.get(URL)
    assert cell(response, appointments["theirs"]) == (11, 3)
    assert "Paul Eto" in text(response)


def test_previous_and_next_weeks_come_as_a_fragment(client, operator, appointments):
    client.force_login(operator)
    page = text(client.get(URL))
    assert 'hx-get="/rappels/?semaine=2026-11-30"' in page

    response = client.get(URL, {"semaine": "2026-11-30"}, headers=HTMX)
    assert "<html" not in response.text and 'id="calendar"' in response.text
    content = text(response)
    assert "Semaine du 30/11/2026 au 06/12/2026" in content
    assert "Ets Lundi Prochain" in content and "Ets Mon Rappel" not in content
    assert "rappel en retard" not in content  # only the current week lists them

    # Any day picks its week; the full page puts the appointment in its hour and day.
    assert cell(client.get(URL, {"semaine": "2026-11-19"}), appointments["last_week"]) == (16, 2)
    assert cell(client.get(URL, {"semaine": "2026-11-30"}), appointments["next_week"]) == (10, 0)


@pytest.mark.parametrize("bad", ["demain", "2026-13-45", "0001-01-01", "9999-12-31"])
def test_a_bad_week_shows_this_week_with_a_message(client, operator, bad):
    client.force_login(operator)
    response = client.get(URL, {"semaine": bad})
    assert response.status_code == 200
    content = text(response)
    assert "Date invalide" in content and "Semaine du 23/11/2026" in content


def test_the_navbar_leads_to_the_calendar(client, operator):
    client.force_login(operator)
    assert 'href="/rappels/">Rappels</a>' in client.get(reverse("calls:home")).text


# --- Handing callbacks over ----------------------------------------------------------------------


def hand_over(client, absent, to=None, **extra):
    data = {
        "from_operator": absent.pk if hasattr(absent, "pk") else absent,
        "semaine": "2026-11-23",
    }
    if to is not None:
        data["to_operator"] = to.pk if hasattr(to, "pk") else to
    return client.post(HAND_OVER, {**data, **extra})


def test_a_supervisor_hands_an_absent_operators_callbacks_to_another(
    client, supervisor, operator, operator2, appointments
):
    client.force_login(supervisor)
    response = hand_over(client, operator, operator2)
    assert response.status_code == 302 and response["Location"] == f"{URL}?semaine=2026-11-23"
    for name in ("mine", "late", "next_week"):
        appointments[name].refresh_from_db()
        assert appointments[name].callback_operator == operator2, name
    appointments["shared"].refresh_from_db()
    assert appointments["shared"].callback_operator is None
    followed = client.get(response["Location"])
    assert "3 rappels personnels de Awa Ngo confiés à Paul Eto." in text(followed)


def test_a_supervisor_hands_them_to_everybody_in_place(client, supervisor, operator, appointments):
    client.force_login(supervisor)
    response = client.post(
        HAND_OVER,
        {"from_operator": operator.pk, "to_operator": "", "semaine": "2026-11-23"},
        headers=HTMX,
    )
    assert "<html" not in response.text and "confiés à tous les opérateurs" in text(response)
    assert not Company.objects.filter(callback_operator=operator).exists()
    appointments["theirs"].refresh_from_db()
    assert appointments["theirs"].callback_operator is not None  # someone else's stay


def test_an_operator_without_personal_callbacks_has_nothing_to_hand_over(
    client, supervisor, operator, operator2, appointments
):
    client.force_login(supervisor)
    response = client.post(
        HAND_OVER, {"from_operator": supervisor.pk, "to_operator": operator2.pk}, headers=HTMX
    )
    assert "Marie Fouda n'a aucun rappel personnel à confier." in text(response)
    assert Company.objects.filter(callback_operator=operator).count() == 3


def test_a_callback_being_called_right_now_stays_with_its_operator(
    client, supervisor, operator, operator2, appointments
):
    held = appointments["late"]
    assert Company.objects.claim(held, operator)
    client.force_login(supervisor)
    hand_over(client, operator, operator2)
    held.refresh_from_db()
    assert held.callback_operator == operator and held.status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("absent", "to", "message"),
    [
        ("999999", None, "Cet opérateur n'existe pas ou ne passe pas d'appels."),
        ("op", "999999", "Cet opérateur n'existe pas ou ne passe pas d'appels."),
        ("op", "nobody", "Cet opérateur n'existe pas ou ne passe pas d'appels."),
        ("op", "inactive", "Cet opérateur n'existe pas ou ne passe pas d'appels."),
        ("op", "op", "Choisissez un autre opérateur que l'absent."),
        ("", None, "Choisissez l'opérateur absent."),
        ("1 OR 1=1", None, "Cet opérateur n'existe pas ou ne passe pas d'appels."),
    ],
)
def test_forged_ids_are_refused_and_change_nothing(
    client, supervisor, operator, appointments, roles, absent, to, message
):
    from core.roles import OPERATORS

    users = {
        "op": operator.pk,
        "nobody": make_user("sans-role").pk,  # an account that makes no calls
        "inactive": make_user("parti", OPERATORS, is_active=False).pk,
    }
    client.force_login(supervisor)
    data = {"from_operator": users.get(absent, absent), "semaine": "2026-11-23"}
    if to is not None:
        data["to_operator"] = users.get(to, to)
    response = client.post(HAND_OVER, data, headers=HTMX)
    assert response.status_code == 200 and message in text(response)
    assert Company.objects.filter(callback_operator=operator).count() == 3


def test_only_supervisors_hand_callbacks_over(client, operator, operator2, appointments):
    client.force_login(operator2)
    assert hand_over(client, operator, operator2).status_code == 403
    assert client.get(HAND_OVER).status_code == 405  # a GET never changes anything
    assert Company.objects.filter(callback_operator=operator).count() == 3
