"""The writer: a large import into a small table drops the table's indexes while its rows go in
(SQLite) and creates them again, inside the import's transaction; the list of rejected lines is
kept whole as a file, the page showing the first ones."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies import importing
from companies.importing import pipeline, report, writer
from companies.models import Campaign, Company, ImportBatch, ImportMode


def company_list(rows: int, first: int = 0) -> bytes:
    lines = ["name;phone;niu;location"]
    lines += [f"Ets {n};6770{n:05d};M{n:012d}A;Douala" for n in range(first, first + rows)]
    return ("\n".join(lines) + "\n").encode()


def company_indexes() -> dict:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Company._meta.db_table)
    return {
        name: (tuple(info["columns"]), info["unique"], info.get("orders"))
        for name, info in constraints.items()
        if info["index"]
    }


def test_a_large_import_into_a_small_table_rebuilds_the_indexes(run_import, monkeypatch):
    monkeypatch.setattr(writer, "REINDEX_MIN_ROWS", 50)
    indexes = company_indexes()
    assert "company_dedup_niu_idx" in indexes

    with CaptureQueriesContext(connection) as queries:
        _preview, applied, _batch = run_import(company_list(120))

    dropped = [q["sql"] for q in queries if q["sql"].startswith("DROP INDEX")]
    assert len(dropped) == (len(indexes) if connection.vendor == "sqlite" else 0)
    assert company_indexes() == indexes
    assert applied.created == Company.objects.count() == 120
    # The rebuilt indexes serve: the dedup index finds a company by campaign and NIU.
    campaign = Campaign.objects.get()
    found = Company.objects.filter(campaign=campaign, niu="M000000000042A")
    assert "company_dedup_niu_idx" in found.explain() or connection.vendor != "sqlite"
    assert found.get().name == "Ets 42"


def test_a_large_import_that_fails_leaves_the_indexes_and_the_list(
    supervisor, campaign, make_company, monkeypatch
):
    from django.core.files.base import ContentFile

    monkeypatch.setattr(writer, "REINDEX_MIN_ROWS", 50)
    kept = make_company(name="Déjà là", niu="", phone="699000000")
    indexes = company_indexes()
    data = company_list(120)
    preview = importing.analyse(data, mode=ImportMode.REPLACE, campaign=campaign)
    batch = ImportBatch(uploaded_by=supervisor, mode=ImportMode.REPLACE, campaign=campaign)
    preview.store_on(batch)
    batch.file.save("liste.csv", ContentFile(data), save=False)
    batch.save()

    def fail(pks, now):
        raise importing.ImportApplyError("panne simulée")

    monkeypatch.setattr(pipeline, "archive_companies", fail)
    with pytest.raises(importing.ImportApplyError):
        importing.apply_batch(batch)

    assert company_indexes() == indexes
    assert list(Company.objects.values_list("pk", flat=True)) == [kept.pk]


def test_an_import_smaller_than_the_table_keeps_its_indexes(run_import, monkeypatch):
    monkeypatch.setattr(writer, "REINDEX_MIN_ROWS", 50)
    run_import(company_list(120), name="Première")

    with CaptureQueriesContext(connection) as queries:
        run_import(company_list(60, first=1000), name="Seconde")

    assert not [q for q in queries if q["sql"].startswith("DROP INDEX")]
    assert Company.objects.count() == 180


def bad_rows(count: int) -> bytes:
    lines = ["name;phone", "Ets Bonne;677000001"] + [f"Sans numéro {n};" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def downloaded_rows(client, batch) -> list[list[str]]:
    response = client.get(reverse("companies:import_rejects", kwargs={"pk": batch.pk}))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


def test_every_rejected_line_is_listed_and_the_page_shows_the_first(
    client, supervisor, run_import, monkeypatch
):
    monkeypatch.setattr(report, "MAX_SHOWN", 3)
    monkeypatch.setattr(importing, "MAX_SHOWN", 3)
    client.force_login(supervisor)

    preview, _applied, batch = run_import(bad_rows(5))

    assert preview.rejected == batch.rows_rejected == 5
    assert [error["line"] for error in batch.errors] == [3, 4, 5]
    rows = downloaded_rows(client, batch)
    assert [row[0] for row in rows] == ["ligne", "3", "4", "5", "6", "7"]
    assert rows[-1][1:] == ["Téléphone manquant.", "Sans numéro 4 | "]
    page = client.get(reverse("companies:import_preview", kwargs={"pk": batch.pk}))
    assert "… et 2 autres lignes rejetées, dans la liste à télécharger." in page.content.decode()


def test_apply_writes_its_own_list_in_place_of_the_preview_s(run_import, client, supervisor):
    client.force_login(supervisor)

    _preview, _applied, batch = run_import(bad_rows(2))

    storage = batch.rejects.storage
    folder = batch.rejects.name.rsplit("/", 1)[0]
    assert [name for name in storage.listdir(folder)[1] if "rejets" in name] == [
        batch.rejects.name.rsplit("/", 1)[1]
    ]
    assert len(downloaded_rows(client, batch)) == 3


def test_discarding_an_import_removes_its_list_of_rejected_lines(client, supervisor):
    from django.core.files.base import ContentFile

    client.force_login(supervisor)
    data = bad_rows(2)
    batch = ImportBatch(uploaded_by=supervisor, campaign_name="À jeter")
    importing.analyse(data).store_on(batch)
    batch.file.save("liste.csv", ContentFile(data), save=False)
    batch.save()
    storage, name = batch.rejects.storage, batch.rejects.name
    assert storage.exists(name)

    client.post(reverse("companies:import_discard", kwargs={"pk": batch.pk}))

    assert not storage.exists(name)
