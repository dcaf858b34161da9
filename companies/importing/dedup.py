"""Deduplication and planning: what to do with each accepted row (create, update, leave
unchanged), against the rows above it in the file and the companies already in the campaign."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from companies.importing.columns import INFO_FIELDS
from companies.importing.reading import Layout, Progress, iter_records
from companies.importing.report import Report
from companies.importing.rows import clean_record, niu_key
from companies.models import Campaign, Company, Status


def updated_fields(layout: Layout) -> list[str]:
    """The info an import may change on a company it finds again: the columns the file has
    (a list without a "product" column leaves products alone)."""
    return [name for name in INFO_FIELDS if name in layout.columns]


def with_calls() -> Exists:
    """Whether a company has calls, through the reverse relation (companies never import calls)."""
    return Exists(Company.objects.filter(pk=OuterRef("pk"), calls__isnull=False))


def fingerprint(values) -> int:
    return hash(tuple(values))


@dataclass
class Existing:
    """The campaign's companies, in memory for dedup (one query, never one per row)."""

    by_niu: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    # id -> (NIU key, fingerprint of the info fields, archived, removable by a replace)
    info: dict[int, tuple[str, int, bool, bool]] = field(default_factory=dict)
    # id -> line of the file that matched it (filled while planning)
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
            existing.info[pk] = (key, fingerprint(info), archived, removable)
        return existing


@dataclass
class Planned:
    action: str  # "create", "update" or "unchanged"
    line: int
    values: dict
    pk: int | None = None


def plan_rows(
    text: str,
    layout: Layout,
    existing: Existing,
    report: Report,
    progress: Progress | None = None,
) -> Iterator[Planned]:
    """Every accepted row with what to do with it; rejections go on the report."""
    seen_niu: dict[str, int] = {}
    seen_phone: dict[str, tuple[int, str]] = {}
    matched = existing.matched
    for line, fields in iter_records(text, layout, progress):
        report.rows_total += 1
        if fields is None:
            report.reject(line, _("Ligne illisible (guillemets mal fermés ?)."))
            continue
        values = clean_record(line, fields, layout, report)
        if values is None:
            continue
        niu = niu_key(values["niu"])
        e164 = values["phone_e164"]
        if niu and niu in seen_niu:
            report.reject(
                line,
                _("Doublon de la ligne %(line)d (même NIU %(niu)s) : ligne ignorée.")
                % {"line": seen_niu[niu], "niu": values["niu"]},
                fields,
            )
            continue
        if e164 and e164 in seen_phone:
            earlier_line, earlier_niu = seen_phone[e164]
            if not niu or not earlier_niu:
                report.reject(
                    line,
                    _("Doublon de la ligne %(line)d (même téléphone %(phone)s) : ligne ignorée.")
                    % {"line": earlier_line, "phone": e164},
                    fields,
                )
                continue
        pk = existing.by_niu.get(niu) if niu else None
        if pk is None and e164:
            candidate = existing.by_phone.get(e164)
            if candidate is not None and (not niu or not existing.info[candidate][0]):
                pk = candidate
        if pk is not None and pk in matched:
            report.reject(
                line,
                _("Même entreprise que la ligne %(line)d : ligne ignorée.") % {"line": matched[pk]},
                fields,
            )
            continue
        if niu:
            seen_niu[niu] = line
        if e164 and e164 not in seen_phone:
            seen_phone[e164] = (line, niu)
        if pk is None:
            report.created += 1
            yield Planned("create", line, values)
            continue
        matched[pk] = line
        _key, old_fingerprint, archived, _removable = existing.info[pk]
        if archived or old_fingerprint != fingerprint(values[name] for name in existing.fields):
            report.updated += 1
            yield Planned("update", line, values, pk)
        else:
            report.unchanged += 1
            yield Planned("unchanged", line, values, pk)


def replaced(existing: Existing) -> tuple[list[int], list[int]]:
    """Companies a replace takes out of the list: (to delete, to archive)."""
    delete, archive = [], []
    for pk, (_key, _fp, archived, removable) in existing.info.items():
        if pk in existing.matched:
            continue
        if removable:
            delete.append(pk)
        elif not archived:
            archive.append(pk)
    return delete, archive
