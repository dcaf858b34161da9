"""Writing companies fast: batched INSERTs (or COPY) and UPDATEs built from the model's own
fields, and what a replace does to the companies the new list leaves out."""

from collections.abc import Callable
from datetime import datetime

from django.db import connections, models

from companies.importing.columns import INFO_FIELDS, TEXT_FIELDS
from companies.models import Campaign, Company, Status

BATCH_SIZE = 2000  # rows per INSERT / UPDATE batch
# On SQLite, from this many new companies (and at least as many as the table holds), the
# table's indexes are dropped while the rows go in, and built again at the end (see below).
REINDEX_MIN_ROWS = 20_000


class RowInserter:
    """New rows of one model, many at a time: on SQLite one prepared statement run with
    executemany, on PostgreSQL a COPY (an INSERT per row costs it a round of parsing and
    planning). Each row is a copy of `template`, every column but the primary key, with the
    `variable` columns (attnames) to fill at their index in `slot`; the others hold their
    field's default, or `now` for auto_now fields, ready for the database."""

    def __init__(self, model: type[models.Model], variable: list[str], now: datetime):
        self.connection = connection = connections[model.objects.db]
        quote = connection.ops.quote_name
        columns, template = [], []
        for model_field in model._meta.local_concrete_fields:
            if model_field.primary_key:
                continue
            if model_field.attname in variable:
                value = None
            elif getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                value = model_field.get_db_prep_save(now, connection)
            else:
                default = model_field.get_default()
                if hasattr(default, "resolve_expression"):
                    continue  # a database-side default: leave the column out
                value = model_field.get_db_prep_save(default, connection)
            columns.append(model_field.attname)
            template.append(value)
        self.template = template
        self.slot = {name: columns.index(name) for name in variable}
        table = quote(model._meta.db_table)
        names = ", ".join(quote(c) for c in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        self.insert_sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"

    def write(self, rows: list[list]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, rows)


class CompanyWriter:
    """Batched INSERTs and UPDATEs of companies, their columns and constant values taken from
    the model's own fields (RowInserter): on SQLite one prepared statement run with executemany
    per batch, on PostgreSQL a COPY per batch for the new rows.

    bulk_create() does the same job, but on SQLite it cuts 100,000 rows into 41-row statements
    (999 parameters at most) and prepares each of the 2.4 million values one by one: an import
    of 100,000 rows took 16 s with it, 4.5 s like this (see docs/PERFORMANCE.md).

    On SQLite, each new row also goes into a dozen indexes, several of them in random order
    (NIU, phone, score): once those outgrow SQLite's page cache, every row costs page reads and
    an import of a million rows takes 15 times as long as one of 100,000. Sorting the entries
    once is cheaper than that, so when the rows to create (`expected`) are many and at least as
    many as the table holds, the writer drops the table's indexes before the first row and
    creates them again in finish(), inside the import's transaction: other connections go on
    reading the indexed table until the commit, and a failure rolls the indexes back with the
    rows. Call finish() after the last row.

    With `after_batch`, each batch of new companies is followed by a call with what create()
    was given for each of them (`extras`), in order, once they are in the table: the company's
    other numbers and contact person are written then (companies/importing/numbers.py).
    """

    VARIABLE = [
        "campaign_id",
        *INFO_FIELDS,
        "phone_e164",
        "time_zone",
        "country",
        "status",
        "callback_at",
    ]

    def __init__(
        self,
        campaign: Campaign,
        now: datetime,
        updated: list[str] = INFO_FIELDS,
        batch_size: int | None = None,  # BATCH_SIZE
        expected: int = 0,
        after_batch: Callable[[list], None] | None = None,
    ):
        self.updated = [*updated, "phone_e164", "time_zone", "country"]
        self.connection = connection = connections[Company.objects.db]
        self.expected = expected
        self.dropped_indexes: list[str] | None = None
        self.batch_size = batch_size or BATCH_SIZE
        self.creates: list[list] = []
        self.updates: list[list] = []
        self.after_batch = after_batch
        self.extras: list = []
        self.callback_at = self.prepare("callback_at", now)
        self.score = Company._meta.get_field("validity_score")
        self.inserter = RowInserter(Company, self.VARIABLE, now)
        self.template = self.inserter.template
        self.slot = self.inserter.slot
        self.template[self.slot["campaign_id"]] = campaign.pk
        quote = connection.ops.quote_name
        table = quote(Company._meta.db_table)

        def assignment(column: str) -> str:
            if column == "time_zone":  # a zone a supervisor chose stays; else it follows the number
                chosen = quote("time_zone_chosen")
                return f"{quote(column)} = CASE WHEN {chosen} THEN {quote(column)} ELSE %s END"
            return f"{quote(column)} = %s"

        assignments = ", ".join(assignment(c) for c in [*self.updated, "is_archived"])
        self.update_sql = (
            f"UPDATE {table} SET {assignments}, {quote('updated_at')} = %s WHERE {quote('id')} = %s"
        )
        self.update_constants = [
            self.prepare("is_archived", False),
            self.prepare("updated_at", now),
        ]

    def adapt_score(self, value):
        if value is None:
            return None
        # The value is already a quantized Decimal: only the backend's adaptation is left.
        return self.connection.ops.adapt_decimalfield_value(
            value, self.score.max_digits, self.score.decimal_places
        )

    def prepare(self, name: str, value):
        return Company._meta.get_field(name).get_db_prep_save(value, self.connection)

    def create(self, values: dict) -> None:
        row = self.template.copy()
        slot = self.slot
        for name in TEXT_FIELDS:
            row[slot[name]] = values[name]
        row[slot["phone_e164"]] = values["phone_e164"]
        row[slot["time_zone"]] = values["time_zone"]
        row[slot["country"]] = values["country"]
        row[slot["validity_score"]] = self.adapt_score(values["validity_score"])
        status = values["status"]
        row[slot["status"]] = str(status)
        # An imported callback has no date: it is due now.
        row[slot["callback_at"]] = self.callback_at if status == Status.CALLBACK else None
        self.creates.append(row)
        if self.after_batch is not None:
            self.extras.append(values)
        if len(self.creates) >= self.batch_size:
            self.flush()

    def update(self, pk: int, values: dict) -> None:
        """Info only: status, attempts, locks and calls stay as they are."""
        row = [values[name] for name in self.updated]
        if "validity_score" in self.updated:
            row[self.updated.index("validity_score")] = self.adapt_score(values["validity_score"])
        self.updates.append([*row, *self.update_constants, pk])
        if len(self.updates) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.dropped_indexes is None and self.creates:
            self.dropped_indexes = self.drop_indexes()
        if self.creates:
            self.inserter.write(self.creates)
            self.creates.clear()
            if self.after_batch is not None:
                self.after_batch(self.extras)
                self.extras = []
        if self.updates:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.update_sql, self.updates)
            self.updates.clear()

    def finish(self) -> None:
        self.flush()
        with self.connection.cursor() as cursor:
            for sql in self.dropped_indexes or []:
                cursor.execute(sql)

    def drop_indexes(self) -> list[str]:
        """Drop the company table's indexes (SQLite, large imports only) and return the SQL that
        creates them again, as the database itself recorded it."""
        if self.connection.vendor != "sqlite" or self.expected < REINDEX_MIN_ROWS:
            return []
        table = Company._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {self.connection.ops.quote_name(table)}")
            if cursor.fetchone()[0] > self.expected:
                return []
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {self.connection.ops.quote_name(name)}")
        return [sql for _name, sql in indexes]


def delete_uncalled(pks: list[int]) -> int:
    """Delete the companies among pks that have no call and nobody holds. The condition is part
    of the DELETE's own query, so a company with calls is never even tried."""
    deleted = 0
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        _total, per_model = (
            Company.objects.filter(pk__in=chunk, calls__isnull=True)
            .exclude(status=Status.IN_PROGRESS)
            .delete()
        )
        deleted += per_model.get(Company._meta.label, 0)
    return deleted


def archive_companies(pks: list[int], now: datetime) -> int:
    """Archive what is left of pks (companies with calls, or held by an operator)."""
    archived = 0
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        archived += Company.objects.filter(pk__in=chunk, is_archived=False).update(
            is_archived=True, updated_at=now
        )
    return archived
