"""One record of the file to the values of one company: lengths, required cells, the score as
people type it, the status, the phone's E.164 form, the company's other numbers and its contact
person. A rejected record goes on the report."""

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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
from companies.models import Company, ContactPerson, PhoneLabel, Status

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
UNKNOWN_OTHER_PHONE = gettext_lazy(
    "Colonne « %(column)s » : « %(phone)s » n'est pas un numéro de téléphone reconnu, laissé de "
    "côté."
)
REPEATED_PHONE = gettext_lazy(
    "Colonne « %(column)s » : le numéro « %(phone)s » est déjà sur la ligne, gardé une fois."
)
UNKNOWN_DIRECT_LINE = gettext_lazy(
    "Ligne directe du contact « %(phone)s » : ce n'est pas un numéro de téléphone reconnu, "
    "laissée de côté."
)
INVALID_EMAIL = gettext_lazy("E-mail du contact « %(value)s » non valide : laissé de côté.")
PERSON_NAME_LENGTH = ContactPerson._meta.get_field("name").max_length
PERSON_PHONE_LENGTH = ContactPerson._meta.get_field("phone").max_length


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
    if layout.numbers or layout.has_person:
        values["numbers"], values["person"] = other_numbers(line, values, layout, report)
    return values


def other_numbers(
    line: int, values: dict, layout: Layout, report: Report
) -> tuple[list[tuple[str, str, str]], tuple[str, str, str, str, str] | None]:
    """The company's other numbers, (as typed, E.164, PhoneLabel) in the file's order without
    the main number or a repeat, and its contact person, (name, role, direct line, its E.164,
    e-mail) or None.

    An other number is a number to dial or nothing: a cell that is not a recognised number
    (« néant », « N/A », a formula, « 12 ») is left out with a warning, as is a number another
    column of the line already gave. (The main number is kept as typed even when not
    recognised: without it there is no company to call.)

    A person needs a name, a role or an e-mail; without a name it is called by its role (« le
    directeur commercial », then its name), else by its e-mail. Its direct line is one more
    number, without a warning when it is one the line listed already (a contact's mobile). A
    « contact » cell that holds a phone number, as in lists where « contact » means the number,
    is read as the contact's direct line."""
    keys = {values["phone_e164"] or values["phone"]}
    numbers: list[tuple[str, str, str]] = []

    for field, label in layout.numbers:
        raw = values[field]
        if not raw:
            continue
        e164 = fast_normalise_phone(raw)
        column = FIELD_LABELS[field]
        if not e164:
            report.warn(line, UNKNOWN_OTHER_PHONE, column=column, phone=raw[:40])
        elif e164 in keys:
            report.warn(line, REPEATED_PHONE, column=column, phone=raw[:40])
        else:
            keys.add(e164)
            numbers.append((raw, e164, label))
    if not layout.has_person:
        return numbers, None
    name, role = values.get("contact_name", ""), values.get("contact_role", "")
    phone, email = values.get("contact_phone", ""), values.get("contact_email", "")
    lines = [phone] if phone else []
    if (
        name
        and name[0] in "+0123456789"
        and len(name) <= PERSON_PHONE_LENGTH
        and fast_normalise_phone(name)
    ):
        lines.append(name)
        name = ""
    phone = e164 = ""
    for raw in lines:
        direct = fast_normalise_phone(raw)
        if not direct:
            report.warn(line, UNKNOWN_DIRECT_LINE, phone=raw[:40])
            continue
        if not phone:
            phone, e164 = raw, direct  # the person's own line: the first one recognised
        if direct not in keys:
            keys.add(direct)
            numbers.append((raw, direct, PhoneLabel.DIRECT))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            report.warn(line, INVALID_EMAIL, value=email[:60])
            email = ""
    if not (name or role or email):
        return numbers, None
    if not name:  # called by its role, which it then need not repeat; else by its e-mail
        name, role = (role, "") if role else (email[:PERSON_NAME_LENGTH], role)
    return numbers, (name, role, phone, e164, email)


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
