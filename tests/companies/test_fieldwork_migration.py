"""Campaigns that existed before the fieldwork rules keep today's behaviour after the migration
(companies/migrations/0012_fieldwork_rules.py); their companies get their number's zone."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("companies", "0011_main_number_for_every_company"),
    ("calls", "0009_recording_health_and_caps"),
]
AFTER = [("companies", "0012_fieldwork_rules"), ("calls", "0010_supervisors_do_not_call")]


@pytest.mark.django_db(transaction=True)
def test_existing_campaigns_keep_todays_behaviour():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    campaign = old.get_model("companies", "Campaign").objects.create(
        name="Ancienne", max_attempts=5, retry_delay=timedelta(minutes=90)
    )
    companies = old.get_model("companies", "Company").objects
    companies.create(
        campaign=campaign, name="Douala", phone="677000001", phone_e164="+237677000001"
    )
    companies.create(
        campaign=campaign, name="Paris", phone="+33142424242", phone_e164="+33142424242"
    )
    companies.create(campaign=campaign, name="Sans numéro", phone="?", phone_e164="")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    migrated = new.get_model("companies", "Campaign").objects.get(pk=campaign.pk)
    try:
        assert migrated.calling_hours == [[["00:00", "24:00"]]] * 7  # open at every hour
        assert not migrated.public_holidays and not migrated.spread_attempts
        assert (migrated.no_answer_delay, migrated.no_answer_max_attempts) == (
            timedelta(minutes=90),
            5,
        )
        assert (migrated.voicemail_delay, migrated.voicemail_max_attempts) == (
            timedelta(minutes=90),
            5,
        )
        assert (migrated.callback_delay, migrated.callback_max_attempts) == (timedelta(0), None)
        assert not migrated.refusal_conversion
        zones = dict(new.get_model("companies", "Company").objects.values_list("name", "time_zone"))
        assert zones == {"Douala": "Africa/Douala", "Paris": "Europe/Paris", "Sans numéro": ""}
        # A campaign created now gets the fieldwork defaults.
        fresh = new.get_model("companies", "Campaign").objects.create(name="Nouvelle")
        assert fresh.calling_hours[6] == [] and fresh.public_holidays and fresh.spread_attempts
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
