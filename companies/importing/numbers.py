"""A company's numbers and contact person, as an import writes them, in the import's one
transaction (rows.py reads them: `values["numbers"]`, `values["person"]`).

- The companies an import creates (CreatedNumbers): every one's main number in one INSERT ...
  SELECT at the end; their other numbers and contact persons a batch at a time, right after
  the batch's companies went in, their ids read back in the order they were written.
- The companies it finds again, in « add » and « replace » (MatchedNumbers): numbers and
  people merged in, a thousand companies at a time, never duplicating what a company has (the
  same number, see merge_numbers(); a person of the same name). A company whose information
  is unchanged but which gains a number or a person counts as updated; the preview asks the
  same question of the database without writing, so its counts are apply's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    Max,
    QuerySet,
    Value,
)
from django.utils.translation import gettext_lazy

from companies.importing.columns import header_key
from companies.importing.dedup import UNCHANGED, UPDATE
from companies.importing.report import Report
from companies.importing.writer import RowInserter
from companies.models import (
    MAX_NUMBERS,
    MAX_PEOPLE,
    Campaign,
    Company,
    CompanyPhone,
    ContactPerson,
    new_numbers,
)

CHUNK = 1000  # companies found again, merged at a time

TOO_MANY_NUMBERS = gettext_lazy(
    "L'entreprise a déjà %(max)d numéros, le plus qu'elle puisse en avoir : « %(phone)s » "
    "laissé de côté."
)
TOO_MANY_PEOPLE = gettext_lazy(
    "L'entreprise a déjà %(max)d personnes à contacter, le plus qu'elle puisse en avoir : "
    "« %(name)s » laissée de côté."
)

Person = tuple[str, str, str, str, str]  # name, role, direct line, its E.164, e-mail


def has_extras(values: dict) -> bool:
    """Whether a row brings numbers or a person beyond the company's main number."""
    return bool(values.get("numbers") or values.get("person"))


def person_key(name: str) -> str:
    """Two people are the same when their names differ only by case, accents or punctuation."""
    return header_key(name)


class CreatedNumbers:
    """The numbers and people of the companies an import creates (CompanyWriter's after_batch).

    Companies are written in batches with no id coming back (COPY, executemany): right after
    each batch its ids are read back, in id order, which is the order the rows were written
    (the sequence gives them in that order; on SQLite the import holds the write lock). Only
    this import's rows can match: this campaign, stamped with this import's `now`, above the
    highest id there was before."""

    def __init__(self, campaign: Campaign, now: datetime, phone_label: str):
        self.campaign, self.now, self.phone_label = campaign, now, phone_label
        self.first_id = self.last_id = Company.objects.aggregate(top=Max("pk"))["top"] or 0
        self.phones = RowInserter(
            CompanyPhone, ["company_id", "position", "label", "number", "e164"], now
        )
        self.people = RowInserter(
            ContactPerson, ["company_id", "name", "role", "phone", "phone_e164", "email"], now
        )

    def created(self, after: int | None = None) -> QuerySet:
        """The companies this import created (those with an id above `after`)."""
        # One lower bound on the id, never two: SQLite seeks with one of them and filters with
        # the other, so a second, lower one made each batch scan every row written before it.
        after = self.first_id if after is None else after
        return Company.objects.filter(campaign=self.campaign, created_at=self.now, pk__gt=after)

    def after_batch(self, batch: list[dict]) -> None:
        """The values of a batch of companies just written, in the order they were."""
        ids = list(
            self.created(after=self.last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: len(batch)]
        )
        if len(ids) != len(batch):
            raise RuntimeError(f"{len(batch)} companies written, {len(ids)} found again")
        self.last_id = ids[-1]
        phones, people = [], []
        phone_slot, person_slot = self.phones.slot, self.people.slot
        for company_id, values in zip(ids, batch, strict=True):
            for position, (raw, e164, label) in enumerate(values.get("numbers") or (), 1):
                if position >= MAX_NUMBERS:
                    break
                row = self.phones.template.copy()
                row[phone_slot["company_id"]] = company_id
                row[phone_slot["position"]] = position
                row[phone_slot["label"]] = str(label)
                row[phone_slot["number"]] = raw
                row[phone_slot["e164"]] = e164
                phones.append(row)
            if person := values.get("person"):
                name, role, phone, e164, email = person
                row = self.people.template.copy()
                row[person_slot["company_id"]] = company_id
                row[person_slot["name"]] = name
                row[person_slot["role"]] = role
                row[person_slot["phone"]] = phone
                row[person_slot["phone_e164"]] = e164
                row[person_slot["email"]] = email
                people.append(row)
        self.phones.write(phones)
        self.people.write(people)

    def finish(self) -> None:
        """Every created company's main number, first of its numbers: one INSERT ... SELECT."""
        write_main_numbers(self.created(), self.phone_label, self.now)


def write_main_numbers(companies: QuerySet, label: str, now: datetime) -> None:
    """Company.phone as the first number (position 0) of each of these companies, which have
    none there yet; rows built by the database from the companies' own columns."""
    connection = connections[Company.objects.db]
    quote = connection.ops.quote_name
    columns = [
        "company_id",
        "position",
        "label",
        "number",
        "e164",
        "is_dead",
        "last_disposition",
        "created_at",
    ]
    select = companies.order_by().values_list(
        "pk",
        Value(0, output_field=IntegerField()),
        Value(str(label), output_field=CharField()),
        "phone",
        "phone_e164",
        Value(False, output_field=BooleanField()),
        Value("", output_field=CharField()),
        Value(now, output_field=DateTimeField()),
    )
    sql, params = select.query.get_compiler(connection=connection).as_sql()
    table = quote(CompanyPhone._meta.db_table)
    names = ", ".join(quote(CompanyPhone._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)


# --- Companies found again --------------------------------------------------------------------


def new_people(
    people: Iterable[tuple[int, Person]], full: list[tuple[int, str]] | None = None
) -> list[ContactPerson]:
    """The ContactPerson rows to add for (company id, person) pairs, unsaved: none whose name
    the company already has (or that an earlier pair gave it), none beyond MAX_PEOPLE (those
    go on `full` as (company id, name), if given)."""
    wanted: dict[int, list[Person]] = defaultdict(list)
    for company_id, person in people:
        wanted[company_id].append(person)
    known: dict[int, set[str]] = defaultdict(set)
    count: dict[int, int] = defaultdict(int)
    existing = ContactPerson.objects.filter(company_id__in=list(wanted))
    for company_id, name in existing.values_list("company_id", "name"):
        known[company_id].add(person_key(name))
        count[company_id] += 1
    rows = []
    for company_id, persons in wanted.items():
        for name, role, phone, e164, email in persons:
            key = person_key(name)
            if key in known[company_id]:
                continue
            if count[company_id] >= MAX_PEOPLE:
                if full is not None:
                    full.append((company_id, name))
                continue
            known[company_id].add(key)
            count[company_id] += 1
            rows.append(
                ContactPerson(
                    company_id=company_id,
                    name=name,
                    role=role,
                    phone=phone,
                    phone_e164=e164,
                    email=email,
                )
            )
    return rows


class MatchedNumbers:
    """The numbers and people that rows matching companies of the campaign bring, merged
    CHUNK companies at a time (write=False: only looked up, for the preview).

    A row whose company information is unchanged waits here for its count: « updated » when
    it gives the company a number or a person it did not have, « unchanged » otherwise.
    `decided(line, action)` hears of each such count."""

    def __init__(
        self,
        report: Report,
        phone_label: str,
        *,
        write: bool,
        decided: Callable[[int, str], None] | None = None,
    ):
        self.report, self.phone_label, self.write = report, str(phone_label), write
        self.decided = decided
        self.pending: list[tuple[int, int, dict, str]] = []  # line, company, values, action

    def add(self, line: int, pk: int, values: dict, action: str) -> None:
        """A row matching company pk, whose own action (UPDATE or UNCHANGED) is `action`; an
        UNCHANGED one is counted when its chunk is merged."""
        self.pending.append((line, pk, values, action))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        numbers = [
            (pk, raw, label)
            for _line, pk, values, _action in pending
            for raw, label in (
                (values["phone"], self.phone_label),
                *((raw, label) for raw, _e164, label in values.get("numbers") or ()),
            )
        ]
        full_numbers: list[tuple[int, str]] = []
        full_people: list[tuple[int, str]] = []
        phones = [row for rows in new_numbers(numbers, full_numbers) for row in rows]
        people = new_people(
            (
                (pk, values["person"])
                for _line, pk, values, _action in pending
                if values.get("person")
            ),
            full_people,
        )
        line_of = {pk: line for line, pk, _values, _action in reversed(pending)}
        for pk, raw in full_numbers:
            self.report.warn(line_of[pk], TOO_MANY_NUMBERS, max=MAX_NUMBERS, phone=raw[:40])
        for pk, name in full_people:
            self.report.warn(line_of[pk], TOO_MANY_PEOPLE, max=MAX_PEOPLE, name=name[:60])
        if self.write:
            # A number or person added at the same moment by someone else is skipped.
            CompanyPhone.objects.bulk_create(phones, ignore_conflicts=True)
            ContactPerson.objects.bulk_create(people)
        gaining = {row.company_id for row in phones} | {row.company_id for row in people}
        for line, pk, _values, action in pending:
            if action == UNCHANGED:
                action = UPDATE if pk in gaining else UNCHANGED
                self.report.count(action)
                if self.decided is not None:
                    self.decided(line, action)
