"""One record of the file to the values of one company: lengths, required cells, the score as
people type it, the status, the phone's E.164 form. A rejected record goes on the report."""

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.fieldwork import phone_zone
from companies.importing.columns import EMPTY_VALUES, FIELD_LABELS, status_for
from companies.importing.phones import fast_normalise_phone
from companies.importing.reading import (
    DELIMITER_LABELS,
    Layout,
    Lines,
    Progress,
    is_blank,
    iter_records,
)
from companies.importing.report import Report
from companies.models import Company, Status

SCORE_FIELD = Company._meta.get_field("validity_score")
SCORE_LIMIT = Decimal(10) ** (SCORE_FIELD.max_digits - SCORE_FIELD.decimal_places)
SCORE_QUANTUM = Decimal(1).scaleb(-SCORE_FIELD.decimal_places)
_SPACES = re.compile(r"[\s\u202f\xa0']+")
_INNER_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")

UNKNOWN_PHONE = gettext_lazy(
    "Téléphone « %(phone)s » non reconnu : importé tel quel, sans numéro normalisé."
)
NOBODY_HOLDS_IT = gettext_lazy(
    "Statut « %(value)s » : aucun opérateur ne tient cette entreprise, importée « À appeler »."
)
UNKNOWN_STATUS = gettext_lazy("Statut « %(value)s » inconnu : importée « À appeler ».")


def parse_score(raw: str) -> Decimal | None:
    """A score as people type it: "12.5", "12,5" (French), "1 234,5", "85 %"."""
    text = _SPACES.sub("", raw).rstrip("%")
    if not text:
        return None
    if "," in text and "." in text:
        # The last separator is the decimal one: "1.234,5" or "1,234.5".
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or abs(value) >= SCORE_LIMIT:
        raise ValueError
    return value.quantize(SCORE_QUANTUM)


def clean_record(line: int, fields: list[str], layout: Layout, report: Report) -> dict | None:
    """The company values of one record, or None when rejected (the reason goes on the report)."""
    width = layout.width
    if len(fields) > width:
        if not is_blank(fields[width:]):
            report.reject(
                line,
                _(
                    "La ligne a %(found)d champs au lieu de %(expected)d : une valeur contient "
                    "sans doute le séparateur %(delimiter)s sans être entre guillemets."
                )
                % {
                    "found": len(fields),
                    "expected": width,
                    "delimiter": DELIMITER_LABELS.get(layout.delimiter, layout.delimiter),
                },
                fields,
            )
            return None
    elif len(fields) < width:
        report.reject(
            line,
            _("La ligne a %(found)d champs au lieu de %(expected)d.")
            % {"found": len(fields), "expected": width},
            fields,
        )
        return None

    values = dict(EMPTY_VALUES)
    for index, name, limit in layout.text_columns:
        cell = fields[index].strip()
        if "\n" in cell or "\r" in cell or "\t" in cell:
            cell = _INNER_BREAKS.sub(" ", cell)
        if len(cell) > limit:
            report.reject(
                line,
                _("Champ « %(field)s » trop long : %(length)d caractères (%(max)d au maximum).")
                % {"field": FIELD_LABELS[name], "length": len(cell), "max": limit},
                fields,
            )
            return None
        values[name] = cell
    if not values["name"]:
        report.reject(line, _("Nom de l'entreprise manquant."), fields)
        return None
    if not values["phone"]:
        report.reject(line, _("Téléphone manquant."), fields)
        return None
    if layout.score_index is not None:
        cell = fields[layout.score_index].strip()
        if cell:
            try:
                values["validity_score"] = parse_score(cell)
            except ValueError:
                report.reject(
                    line,
                    _("Score « %(value)s » : ce n'est pas un nombre (ex. 72,5).")
                    % {"value": cell[:40]},
                    fields,
                )
                return None
    raw_status = ""
    if layout.status_index is not None:
        raw_status = fields[layout.status_index].strip()

    values["phone_e164"] = e164 = fast_normalise_phone(values["phone"])
    # The fieldwork rules' time zone and country (of public holidays), from the number.
    values["time_zone"], values["country"] = phone_zone(e164)
    if not e164:
        report.warn(line, UNKNOWN_PHONE, phone=values["phone"][:40])
    values["status"] = clean_status(line, raw_status, report)
    return values


def clean_status(line: int, raw: str, report: Report) -> str:
    if not raw:
        return Status.PENDING
    status = status_for(raw)
    if status == Status.IN_PROGRESS:
        report.warn(line, NOBODY_HOLDS_IT, value=raw[:40])
        return Status.PENDING
    if status is None:
        report.warn(line, UNKNOWN_STATUS, value=raw[:40])
        return Status.PENDING
    return status


def read_rows(
    fileobj: BinaryIO, layout: Layout, size: int, report: Report, progress: Progress | None
) -> Iterator[tuple[int, dict, list[str]]]:
    """(line, values, fields) of every record that makes a company, the file read as a stream;
    the others are counted and rejected on the report."""
    for line, fields in iter_records(Lines(fileobj, layout.encoding), layout, size, progress):
        report.rows_total += 1
        if fields is None:
            report.reject(line, _("Ligne illisible (guillemets mal fermés ?)."))
            continue
        values = clean_record(line, fields, layout, report)
        if values is not None:
            yield line, values, fields
