"""Deduplication: what happens to each accepted row (create, update, leave unchanged, or reject
as a duplicate), against the rows above it in the file and the companies of the campaign.

The rules, row after row in line order:
- a row repeating the NIU of a row kept above is a duplicate; so is a row repeating the phone of
  a row kept above when one of the two has no NIU;
- a row matches a company of the campaign by NIU, else by phone (when one of the two has no
  NIU); a second row matching the same company is a duplicate;
- a matched company is updated when its information differs (or it was archived).

Only "contested" rows need these rules: rows sharing a NIU or a phone with another row, or
matching a company of the campaign. Any other row is created, and nothing later can collide with
it. So memory does not grow with the file: the preview keeps each accepted row's keys in a
temporary SQLite file on disk (RowStore), finds the keys written more than once in one query at
the end and decides the contested rows then; it records those keys on the ImportBatch, and apply
decides each row as it reads it, keeping in memory only the contested ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from companies.importing.columns import INFO_FIELDS
from companies.importing.reading import Layout
from companies.models import Campaign, Company, Status

# What happens to a row; the first three are also the names of the Report's counts.
CREATE, UPDATE, UNCHANGED, REJECT = "created", "updated", "unchanged", "rejected"


def updated_fields(layout: Layout) -> list[str]:
    """The info an import may change on a company it finds again: the columns the file has
    (a list without a "product" column leaves products alone)."""
    return [name for name in INFO_FIELDS if name in layout.columns]


def niu_key(niu: str) -> str:
    return "".join(niu.split()).upper()


def with_calls() -> Exists:
    """Whether a company has calls, through the reverse relation (companies never import calls)."""
    return Exists(Company.objects.filter(pk=OuterRef("pk"), calls__isnull=False))


@dataclass
class Existing:
    """The campaign's companies, in memory for dedup (one query, never one per row). It grows
    with the campaign completed or replaced, not with the file."""

    by_niu: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    # id -> (NIU key, fingerprint of the info fields, archived, removable by a replace)
    info: dict[int, tuple[str, int, bool, bool]] = field(default_factory=dict)
    # id -> line of the file that matched it (filled while deciding)
    matched: dict[int, int] = field(default_factory=dict)

    fields: list[str] = field(default_factory=lambda: list(INFO_FIELDS))

    @classmethod
    def of(cls, campaign: Campaign | None, fields: list[str]) -> Existing:
        existing = cls(fields=fields)
        if campaign is None or campaign.pk is None:
            return existing
        rows = (
            Company.objects.filter(campaign=campaign)
            .annotate(has_calls=with_calls())
            .order_by("pk")
            .values_list("pk", "niu", *fields, "phone_e164", "is_archived", "status", "has_calls")
        )
        for pk, niu, *info, e164, archived, status, has_calls in rows.iterator(chunk_size=5000):
            key = niu_key(niu)
            if key:
                existing.by_niu.setdefault(key, pk)
            if e164:
                existing.by_phone.setdefault(e164, pk)
            removable = not has_calls and status != Status.IN_PROGRESS
            existing.info[pk] = (key, hash(tuple(info)), archived, removable)
        return existing

    def fingerprint(self, values: dict) -> int:
        """Compared with a matched company's own, to tell an update from no change."""
        return hash(tuple(values[name] for name in self.fields))

    def match(self, niu: str, phone: str) -> int | None:
        """The company of the campaign a row with these keys is."""
        pk = self.by_niu.get(niu) if niu else None
        if pk is None and phone:
            candidate = self.by_phone.get(phone)
            if candidate is not None and (not niu or not self.info[candidate][0]):
                pk = candidate
        return pk

    def replaced(self) -> tuple[list[int], list[int]]:
        """Companies a replace takes out of the list: (to delete, to archive)."""
        delete, archive = [], []
        for pk, (_key, _fp, archived, removable) in self.info.items():
            if pk in self.matched:
                continue
            if removable:
                delete.append(pk)
            elif not archived:
                archive.append(pk)
        return delete, archive


class Dedup:
    """The rules above, for the contested rows, fed in line order."""

    def __init__(self, existing: Existing):
        self.existing = existing
        self.seen_niu: dict[str, int] = {}
        self.seen_phone: dict[str, tuple[int, str]] = {}

    def decide(
        self, line: int, niu: str, niu_text: str, phone: str, pk: int | None, info: int
    ) -> tuple[str, str]:
        """(action, the reason of a rejection) for the row at line, whose NIU key is niu
        (niu_text as written), whose normalised phone is phone, matching company pk of the
        campaign (None: none) and whose info has fingerprint info."""
        seen_niu, seen_phone, matched = self.seen_niu, self.seen_phone, self.existing.matched
        if niu and niu in seen_niu:
            return REJECT, _("Doublon de la ligne %(line)d (même NIU %(niu)s) : ligne ignorée.") % {
                "line": seen_niu[niu],
                "niu": niu_text,
            }
        if phone and phone in seen_phone:
            earlier_line, earlier_niu = seen_phone[phone]
            if not niu or not earlier_niu:
                return REJECT, _(
                    "Doublon de la ligne %(line)d (même téléphone %(phone)s) : ligne ignorée."
                ) % {"line": earlier_line, "phone": phone}
        if pk is not None and pk in matched:
            return REJECT, _("Même entreprise que la ligne %(line)d : ligne ignorée.") % {
                "line": matched[pk]
            }
        if niu:
            seen_niu[niu] = line
        if phone and phone not in seen_phone:
            seen_phone[phone] = (line, niu)
        if pk is None:
            return CREATE, ""
        matched[pk] = line
        _key, old_fingerprint, archived, _removable = self.existing.info[pk]
        return (UPDATE if archived or old_fingerprint != info else UNCHANGED), ""


@dataclass
class RepeatedKeys:
    """The NIU keys and phones that more than one accepted row of a file holds."""

    niu: set[str]
    phone: set[str]

    def as_json(self) -> dict:
        return {"niu": sorted(self.niu), "phone": sorted(self.phone)}

    @classmethod
    def from_json(cls, value: dict | None) -> RepeatedKeys | None:
        if not value:
            return None  # not known (a preview made before they were kept): decide every row
        return cls(set(value["niu"]), set(value["phone"]))

    def contested(self, niu: str, phone: str) -> bool:
        return niu in self.niu or phone in self.phone


class RowStore:
    """Every accepted row's keys (and what a rejection would show), in a private temporary
    SQLite file, so that the preview finds the repeated keys without holding the file's keys in
    memory. Use as a context manager: the file goes when it closes."""

    BATCH = 5000

    def __init__(self):
        self.db = sqlite3.connect("", isolation_level=None)  # "": a temporary file on disk
        self.db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE row (
                line INTEGER PRIMARY KEY, niu TEXT, niu_text TEXT, phone TEXT, pk INTEGER,
                info INTEGER, content TEXT, extras TEXT
            );
            BEGIN;
            """
        )
        self.pending: list[tuple] = []
        self.count = 0

    def __enter__(self) -> RowStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.db.close()

    def add(self, line, niu, niu_text, phone, pk, info, content, extras=None) -> None:
        """extras: what the preview needs again of a row matching a company (JSON), if any."""
        self.pending.append((line, niu, niu_text, phone, pk, info, content, extras))
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO row VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.pending)
        self.count += len(self.pending)
        self.pending.clear()

    def repeated_keys(self) -> RepeatedKeys:
        self.flush()
        self.db.executescript(
            """
            CREATE TABLE repeated_niu (key TEXT PRIMARY KEY);
            INSERT INTO repeated_niu
                SELECT niu FROM row WHERE niu != '' GROUP BY niu HAVING count(*) > 1;
            CREATE TABLE repeated_phone (key TEXT PRIMARY KEY);
            INSERT INTO repeated_phone
                SELECT phone FROM row WHERE phone != '' GROUP BY phone HAVING count(*) > 1;
            """
        )
        return RepeatedKeys(
            {key for (key,) in self.db.execute("SELECT key FROM repeated_niu")},
            {key for (key,) in self.db.execute("SELECT key FROM repeated_phone")},
        )

    def contested(self) -> Iterator[tuple]:
        """The contested rows, in line order (after repeated_keys())."""
        return self.db.execute(
            """
            SELECT line, niu, niu_text, phone, pk, info, content, extras FROM row
            WHERE pk IS NOT NULL
                OR niu IN (SELECT key FROM repeated_niu)
                OR phone IN (SELECT key FROM repeated_phone)
            ORDER BY line
            """
        )
