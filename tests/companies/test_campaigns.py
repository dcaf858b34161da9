"""/campagnes/: supervisors list, create, rename, (de)activate campaigns and set their rules."""

from datetime import timedelta

import pytest
from django.urls import reverse

from companies.models import Campaign, Company
from tests.conftest import page_text


def test_the_list_shows_each_campaign_with_its_rules_and_size(as_supervisor, make_company):
    make_company()
    make_company(is_archived=True)

    response = as_supervisor.get(reverse("companies:campaigns"))

    content = page_text(response)
    assert "Enquête transformateurs 2026" in content and "2 h" in content
    assert response.context["table"].rows[0].get_cell("total") == 1  # archived not counted
    assert "Nouvelle campagne" in content and "Modifier" in content


def test_create_a_campaign(as_supervisor, supervisor):
    response = as_supervisor.post(
        reverse("companies:campaign_create"),
        {
            "name": "Enquête laitière",
            "is_active": "on",
            "max_attempts": 5,
            "retry_delay_minutes": 90,
        },
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Enquête laitière")
    assert campaign.is_active and campaign.max_attempts == 5
    assert campaign.retry_delay == timedelta(minutes=90) and campaign.created_by == supervisor


def test_rename_deactivate_and_change_the_rules(as_supervisor, campaign):
    response = as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        {"name": "Enquête 2026 (close)", "max_attempts": 1, "retry_delay_minutes": 0},
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Enquête 2026 (close)" and not campaign.is_active
    assert campaign.max_attempts == 1 and campaign.retry_delay == timedelta(0)
    assert "Campagne « Enquête 2026 (close) » enregistrée." in page_text(
        as_supervisor.get(response["Location"])
    )


def test_a_deactivated_campaign_leaves_the_queue(as_supervisor, campaign, make_company, operator):
    company = make_company()

    as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        {"name": campaign.name, "max_attempts": 3, "retry_delay_minutes": 120},
    )

    assert Company.objects.claim_next(operator) is None  # « Appeler le suivant »
    assert not Company.objects.claim(company, operator)  # « Lancer un appel »
    as_supervisor.force_login(operator)
    assert company.name not in as_supervisor.get(reverse("calls:list")).text


def test_the_edit_form_shows_the_current_delay_in_minutes(as_supervisor, campaign):
    response = as_supervisor.get(reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}))

    assert 'name="retry_delay_minutes" value="120"' in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "max_attempts": 3, "retry_delay_minutes": 10}, "Ce champ est obligatoire"),
        ({"name": "X", "max_attempts": 0, "retry_delay_minutes": 10}, "supérieure ou égale à 1"),
        ({"name": "X", "max_attempts": 3, "retry_delay_minutes": -5}, "supérieure ou égale à 0"),
        ({"name": "X", "max_attempts": "trois", "retry_delay_minutes": 1}, "Saisissez un nombre"),
    ],
)
def test_bad_values_are_explained_and_change_nothing(as_supervisor, campaign, data, message):
    response = as_supervisor.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}), data
    )

    assert response.status_code == 200
    assert message in page_text(response)
    campaign.refresh_from_db()
    assert campaign.name == "Enquête transformateurs 2026" and campaign.max_attempts == 3


def test_two_campaigns_cannot_share_a_name(as_supervisor, campaign):
    response = as_supervisor.post(
        reverse("companies:campaign_create"),
        {"name": campaign.name, "max_attempts": 3, "retry_delay_minutes": 10},
    )

    assert response.status_code == 200
    assert "existe déjà" in page_text(response)
    assert Campaign.objects.count() == 1


def test_operators_cannot_manage_campaigns(client, operator, campaign):
    client.force_login(operator)

    response = client.post(
        reverse("companies:campaign_edit", kwargs={"pk": campaign.pk}),
        {"name": "Piratée", "max_attempts": 3, "retry_delay_minutes": 10},
    )

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name != "Piratée"
