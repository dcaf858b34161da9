"""/campagnes/: supervisors list, create, rename, (de)activate campaigns and set their rules:
calling hours per weekday, default time zone, holidays, closed days, retry rules per outcome,
quota settings."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from companies.models import Campaign, Company
from tests.conftest import page_text
from tests.factories import campaign_form_data as form_data


def test_the_list_shows_each_campaign_with_its_zone_and_size(as_supervisor, make_company):
    make_company()
    make_company(is_archived=True)

    response = as_supervisor.get(reverse("companies:campaigns"))

    content = page_text(response)
    assert "Enquête transformateurs 2026" in content and "Africa/Douala" in content
    assert response.context["table"].rows[0].get_cell("total") == 1  # archived not counted
    assert "Nouvelle campagne" in content and "Modifier" in content


def test_a_new_campaign_gets_the_fieldwork_defaults(as_supervisor, supervisor):
    page = page_text(as_supervisor.get(reverse("companies:campaign_create")))
    assert 'value="08:00-12:30, 14:00-18:00"' in page and 'value="09:00-12:00"' in page

    response = as_supervisor.post(reverse("companies:campaign_create"), form_data())

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Enquête laitière")
    assert campaign.is_active and campaign.created_by == supervisor
    assert campaign.calling_hours[0] == [["08:00", "12:30"], ["14:00", "18:00"]]
    assert campaign.calling_hours[5] == [["09:00", "12:00"]] and campaign.calling_hours[6] == []
    assert campaign.public_holidays and campaign.spread_attempts
    assert campaign.no_answer_delay == timedelta(hours=2) and campaign.no_answer_max_attempts == 3
    assert campaign.callback_delay == timedelta(0) and campaign.callback_max_attempts is None
    assert not campaign.refusal_conversion  # off by default


def test_change_the_hours_the_rules_and_the_closed_days(as_supervisor, campaign):
    response = as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        form_data(
            name="Enquête 2026 (close)",
            is_active=None,
            hours_0="07h30-12:00",
            hours_5="",
            time_zone="Europe/Paris",
            public_holidays=None,
            closed_days_text="24/12/2026\n2026-12-31",
            no_answer_delay_minutes=30,
            no_answer_max_attempts=5,
            voicemail_delay_minutes=240,
            voicemail_max_attempts=2,
            callback_delay_minutes=15,
            callback_max_attempts=4,
            spread_attempts=None,
            refusal_conversion="on",
            refusal_conversion_days=7,
            quota_counts_partials="on",
            quota_others_callable=None,
        ),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Enquête 2026 (close)" and not campaign.is_active
    assert campaign.calling_hours[0] == [["07:30", "12:00"]] and campaign.calling_hours[5] == []
    assert campaign.time_zone == "Europe/Paris" and not campaign.public_holidays
    assert campaign.closed_days == ["2026-12-24", "2026-12-31"]
    assert campaign.calendar.closed_days == {date(2026, 12, 24), date(2026, 12, 31)}
    assert (campaign.no_answer_delay, campaign.no_answer_max_attempts) == (
        timedelta(minutes=30),
        5,
    )
    assert (campaign.voicemail_delay, campaign.voicemail_max_attempts) == (timedelta(hours=4), 2)
    assert (campaign.callback_delay, campaign.callback_max_attempts) == (timedelta(minutes=15), 4)
    assert not campaign.spread_attempts
    assert campaign.refusal_conversion and campaign.refusal_conversion_days == 7
    assert campaign.quota_counts_partials and not campaign.quota_others_callable
    assert "Campagne « Enquête 2026 (close) » enregistrée." in page_text(
        as_supervisor.get(response["Location"])
    )


def test_the_edit_form_shows_the_current_hours_delays_and_closed_days(as_supervisor, campaign):
    campaign.closed_days = ["2026-12-24"]
    campaign.save()

    page = page_text(
        as_supervisor.get(reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}))
    )

    assert 'name="hours_3" value="00:00-24:00"' in page
    assert 'name="no_answer_delay_minutes" value="120"' in page
    assert "24/12/2026" in page
    assert "Quotas de la campagne" in page


def test_a_deactivated_campaign_leaves_the_queue(as_supervisor, campaign, make_company, operator):
    company = make_company()

    as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        form_data(
            name=campaign.name, is_active=None, **{f"hours_{d}": "00:00-24:00" for d in range(7)}
        ),
    )

    assert Company.objects.claim_next(operator) is None  # « Appeler le suivant »
    assert not Company.objects.claim(company, operator)  # « Lancer un appel »
    as_supervisor.force_login(operator)
    assert company.name not in as_supervisor.get(reverse("calls:list")).text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Ce champ est obligatoire"),
        ({"no_answer_max_attempts": 0}, "supérieure ou égale à 1"),
        ({"voicemail_delay_minutes": -5}, "supérieure ou égale à 0"),
        ({"no_answer_max_attempts": "trois"}, "Saisissez un nombre"),
        ({"callback_max_attempts": 0}, "supérieure ou égale à 1"),
        ({"hours_2": "8h-12h30, 11:00-18:00"}, "les plages doivent se suivre sans se chevaucher"),
        ({"hours_2": "18:00-08:00"}, "la fin doit suivre le début"),
        ({"hours_2": "matin"}, "écrivez une plage comme 08:00-12:30"),
        ({"hours_2": "08:00-25:00"}, "n'est pas une heure"),
        ({"hours_2": "08:75-09:00"}, "n'est pas une heure"),
        ({"closed_days_text": "31/02/2026"}, "n'est pas une date"),
        ({"time_zone": "Mars/Olympus_Mons"}, "Sélectionnez un choix valide"),
        ({"refusal_conversion_days": 0}, "supérieure ou égale à 1"),
    ],
)
def test_bad_values_are_explained_and_change_nothing(as_supervisor, campaign, changes, message):
    response = as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        form_data(name="Renommée", **changes) if "name" not in changes else form_data(**changes),
    )

    assert response.status_code == 200
    assert message in page_text(response)
    campaign.refresh_from_db()
    assert campaign.name == "Enquête transformateurs 2026"
    assert campaign.no_answer_max_attempts == 3
    assert campaign.calling_hours[2] == [["00:00", "24:00"]]


def test_two_campaigns_cannot_share_a_name(as_supervisor, campaign):
    response = as_supervisor.post(
        reverse("companies:campaign_create"), form_data(name=campaign.name)
    )

    assert response.status_code == 200
    assert "existe déjà" in page_text(response)
    assert Campaign.objects.count() == 1


def test_operators_cannot_manage_campaigns(client, operator, campaign):
    client.force_login(operator)

    response = client.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}), form_data(name="Piratée")
    )

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name != "Piratée"
