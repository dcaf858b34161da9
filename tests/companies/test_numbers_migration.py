"""The migrations that give companies several numbers keep every existing company's single
number and every call intact: run backwards to before them on a real database, fill it with
the historical models, run forwards, check."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


def migration_named(executor, app, suffix):
    """Found by the end of its name: the number in front may change when branches merge."""
    (key,) = [
        key for key in executor.loader.graph.nodes if key[0] == app and key[1].endswith(suffix)
    ]
    return key


def before(executor, key):
    """The migration of the same app that key follows."""
    (parent,) = [p.key for p in executor.loader.graph.node_map[key].parents if p.key[0] == key[0]]
    return parent


def migrated_from_before(named, populate):
    """Take the database back to just before each named migration ((app, end of its name)),
    fill it with populate(historical models), migrate to the latest. Returns the latest models
    and what populate returned; the database ends at the latest even when a step fails."""
    executor = MigrationExecutor(connection)
    old_state = [before(executor, migration_named(executor, app, suffix)) for app, suffix in named]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(old_state)
        filled = populate(executor.loader.project_state(old_state).apps)
    finally:
        MigrationExecutor(connection).migrate(latest)  # the database as the other tests want it
    return MigrationExecutor(connection).loader.project_state(latest).apps, filled


@pytest.mark.django_db(transaction=True)
def test_existing_companies_keep_their_number_and_calls_their_history():
    new, ids = migrated_from_before(
        [("companies", "_company_numbers_people_notes"), ("calls", "_callrecord_phone")], populate
    )
    check(new, ids)


def populate(apps) -> dict:
    User = apps.get_model("auth", "User")
    Campaign = apps.get_model("companies", "Campaign")
    Company = apps.get_model("companies", "Company")
    CallRecord = apps.get_model("calls", "CallRecord")
    operator = User.objects.create(username="operateur-historique")
    campaign = Campaign.objects.create(name="Campagne d'avant")
    now = timezone.now()

    def company(name, phone, phone_e164, **fields):
        return Company.objects.create(
            campaign=campaign, name=name, phone=phone, phone_e164=phone_e164, **fields
        )

    def call(company, minutes_ago, disposition, status_numero, call_status="", submitted=True):
        return CallRecord.objects.create(
            company=company,
            operator=operator,
            status_numero=status_numero,
            call_status=call_status,
            disposition=disposition,
            notes=f"appel {disposition or 'brouillon'}",
            submitted_at=now - timedelta(minutes=minutes_ago) if submitted else None,
        )

    never = company("Jamais appelée", "6 77 00 00 01", "+237677000001")
    unrecognised = company("Numéro bizarre", "12", "")
    dead = company(
        "Numéro mort",
        "677 00 00 03",
        "+237677000003",
        status="done",
        disposition="4.30",
        attempts=2,
    )
    retried = company(
        "Rappelée", "+237 6 77 00 00 04", "+237677000004", attempts=2, disposition="3.13"
    )
    calls = {
        "dead_first": call(dead, 90, "3.13", "no_answer"),
        "dead_last": call(dead, 30, "4.30", "invalid"),
        "retried_first": call(retried, 60, "4.30", "answered", "bad_number"),
        "retried_last": call(retried, 10, "3.13", "no_answer"),
        "retried_draft": call(retried, 0, "", "", submitted=False),
    }
    return {
        "companies": {
            c.name: (c.pk, c.phone, c.phone_e164) for c in (never, unrecognised, dead, retried)
        },
        "calls": {
            name: (c.pk, c.company_id, c.disposition, c.notes, c.submitted_at)
            for name, c in calls.items()
        },
    }


def check(apps, ids) -> None:
    Company = apps.get_model("companies", "Company")
    CompanyPhone = apps.get_model("companies", "CompanyPhone")
    CallRecord = apps.get_model("calls", "CallRecord")

    for name, (pk, phone, e164) in ids["companies"].items():
        company = Company.objects.get(pk=pk)
        assert (company.phone, company.phone_e164) == (phone, e164), name
        (number,) = CompanyPhone.objects.filter(company_id=pk)
        assert (number.position, number.label, number.number, number.e164) == (
            0,
            "standard",
            phone,
            e164,
        ), name

    for name, (pk, company_id, disposition, notes, submitted_at) in ids["calls"].items():
        call = CallRecord.objects.get(pk=pk)
        assert (call.company_id, call.disposition, call.notes, call.submitted_at) == (
            company_id,
            disposition,
            notes,
            submitted_at,
        ), name
        assert call.phone.company_id == company_id and call.phone.position == 0, name
    assert CallRecord.objects.count() == len(ids["calls"])

    by_name = {
        name: CompanyPhone.objects.get(company_id=pk)
        for name, (pk, _p, _e) in ids["companies"].items()
    }
    # The number's last outcome is the one of the latest submitted call, a draft aside.
    assert (by_name["Numéro mort"].last_disposition, by_name["Numéro mort"].is_dead) == (
        "4.30",
        True,
    )
    assert by_name["Numéro mort"].last_called_at == ids["calls"]["dead_last"][4]
    assert (by_name["Rappelée"].last_disposition, by_name["Rappelée"].is_dead) == ("3.13", False)
    assert (by_name["Jamais appelée"].last_disposition, by_name["Jamais appelée"].is_dead) == (
        "",
        False,
    )
    assert by_name["Jamais appelée"].last_called_at is None


@pytest.mark.django_db(transaction=True)
def test_companies_imported_without_their_numbers_get_their_main_number():
    """Companies the importer wrote before it wrote numbers had none until a call form opened
    them: the migration gives each its main number, and leaves the others' numbers alone."""
    executor = MigrationExecutor(connection)
    catch_up = migration_named(executor, "companies", "_main_number_for_every_company")
    old_state = [before(executor, catch_up)]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(old_state)
        old = executor.loader.project_state(old_state).apps
        Campaign = old.get_model("companies", "Campaign")
        Company = old.get_model("companies", "Company")
        CompanyPhone = old.get_model("companies", "CompanyPhone")
        campaign = Campaign.objects.create(name="Importée avant")
        imported = Company.objects.create(
            campaign=campaign, name="Importée", phone="677 00 00 21", phone_e164="+237677000021"
        )
        odd = Company.objects.create(campaign=campaign, name="Bizarre", phone="12", phone_e164="")
        listed = Company.objects.create(
            campaign=campaign, name="Déjà listée", phone="677 00 00 22", phone_e164="+237677000022"
        )
        for position, label, number, e164 in [
            (0, "standard", "677 00 00 22", "+237677000022"),
            (1, "mobile", "699 00 00 22", "+237699000022"),
        ]:
            CompanyPhone.objects.create(
                company=listed, position=position, label=label, number=number, e164=e164
            )
        ids = {"imported": imported.pk, "odd": odd.pk, "listed": listed.pk}

        MigrationExecutor(connection).migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)
    new = MigrationExecutor(connection).loader.project_state(latest).apps
    CompanyPhone = new.get_model("companies", "CompanyPhone")

    def numbers(pk):
        rows = CompanyPhone.objects.filter(company_id=pk).order_by("position")
        return list(rows.values_list("position", "label", "number", "e164"))

    assert numbers(ids["imported"]) == [(0, "standard", "677 00 00 21", "+237677000021")]
    assert numbers(ids["odd"]) == [(0, "standard", "12", "")]
    assert numbers(ids["listed"]) == [
        (0, "standard", "677 00 00 22", "+237677000022"),
        (1, "mobile", "699 00 00 22", "+237699000022"),
    ]
