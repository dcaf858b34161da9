"""Finding one company's identifying values wherever they were copied, and removing them.

An erasure (privacy/erasure.py) blanks the company's own rows; copies of its values also live in
- the audit trail (django-auditlog keeps before/after of every change, a copy of each submitted
  call, the object's name, the reasons typed), and Django admin's own log;
- the review comments of its calls;
- the kept import files of its campaign (downloadable, previewed) and their reports.
`Identifiers` holds what identifies the company, read before anything is blanked, as patterns
that also find a number written another way (« 677 00 00 01 », « +237 6 77 00 00 01 »).
"""

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property

import phonenumbers
from auditlog.models import LogEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db.models import Q

from calls.models import CallRecord
from companies.models import Company, ImportBatch
from quality.models import ReviewItem

ERASED = "[effacé]"  # what is left in place of an erased value
# In entries of the erased objects, these fields' values are replaced whatever they hold.
IDENTIFYING_FIELDS = frozenset(
    {"name", "phone", "phone_e164", "niu", "notes", "number", "e164", "email", "role", "text"}
)
MIN_LENGTH = 3  # a shorter name or NIU is not searched for inside other text
_SEPARATORS = r"[\s./()\-]*"


def _digits_pattern(digits: str) -> str:
    return _SEPARATORS.join(digits)


def phone_pattern(raw: str, e164: str) -> str | None:
    """A regex finding the number however it is written: with or without its country code
    (+237, 00237, 237), a trunk 0, spaces, dots, dashes or brackets between the digits."""
    try:
        number = phonenumbers.parse(e164) if e164 else None
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        national = _digits_pattern(str(number.national_number))
        country = _digits_pattern(str(number.country_code))
        return rf"(?<!\d)(?:(?:\+|00)?{country}{_SEPARATORS})?(?:0{_SEPARATORS})?{national}(?!\d)"
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) >= 6:
        return rf"(?<!\d){_digits_pattern(digits)}(?!\d)"
    return re.escape(raw.strip()) if len(raw.strip()) >= MIN_LENGTH else None


@dataclass
class Identifiers:
    """What identifies a company, read before its erasure blanks it."""

    name: str = ""
    niu: str = ""
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (as typed, E.164 or "")
    people: list[str] = field(default_factory=list)  # names and e-mails of its contact persons
    texts: list[str] = field(default_factory=list)  # its pinned notes and its calls' notes

    @classmethod
    def of(cls, company: Company) -> "Identifiers":
        people = list(company.people.values_list("name", "email", "phone", "phone_e164"))
        numbers = {(company.phone, company.phone_e164)}
        numbers |= set(company.phones.values_list("number", "e164"))
        numbers |= {(phone, e164) for _name, _email, phone, e164 in people if phone}
        notes = list(company.notes.values_list("text", flat=True))
        notes += CallRecord.objects.filter(company=company).values_list("notes", flat=True)
        return cls(
            # An erased company's placeholder name identifies nobody.
            name="" if company.erased_at else company.name,
            niu=company.niu,
            numbers=sorted((raw, e164) for raw, e164 in numbers if raw or e164),
            people=[value for name, email, _p, _e in people for value in (name, email) if value],
            texts=[text.strip() for text in notes if len(text.strip()) >= 8],
        )

    @property
    def e164_numbers(self) -> list[str]:
        """Its numbers in E.164 form, and those not recognised as typed (the do-not-call list's
        keys)."""
        return sorted({e164 or raw.strip() for raw, e164 in self.numbers})

    @cached_property
    def _number_patterns(self) -> list[str]:
        patterns = {phone_pattern(raw, e164) for raw, e164 in self.numbers}
        if len(self.niu.strip()) >= MIN_LENGTH:
            patterns.add(r"\s*".join(re.escape(ch) for ch in "".join(self.niu.split())))
        return sorted((p for p in patterns if p), key=len, reverse=True)

    @cached_property
    def _name_patterns(self) -> list[str]:
        values = [self.name, *self.people, *self.texts]
        values = {v.strip() for v in values if len(v.strip()) >= MIN_LENGTH}
        return [re.escape(v) for v in sorted(values, key=len, reverse=True)]

    @cached_property
    def anywhere(self) -> re.Pattern | None:
        """Every identifying value, found inside any text."""
        patterns = [*self._name_patterns, *self._number_patterns]
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None

    @cached_property
    def number_or_niu(self) -> re.Pattern | None:
        patterns = self._number_patterns
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None

    def scrub(self, text: str) -> str:
        """The text with every identifying value replaced by ERASED."""
        if not text or self.anywhere is None:
            return text
        return self.anywhere.sub(ERASED, text)

    def is_its_row(self, cells: list[str]) -> bool:
        """Whether an imported row is this company's: a cell holds one of its numbers or its
        NIU, or is exactly its name."""
        name = self.name.strip().casefold()
        for cell in cells:
            if name and cell.strip().casefold() == name:
                return True
            if self.number_or_niu is not None and self.number_or_niu.search(cell):
                return True
        return False


def redact(value, identifiers: Identifiers, key: str | None = None):
    """A JSON value (an entry's changes, its copy of the object, its extra data) with the
    identifying fields' values replaced and identifying values removed from every text."""
    if isinstance(value, dict):
        return {k: redact(v, identifiers, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, identifiers, key) for v in value]
    if isinstance(value, str):
        if key in IDENTIFYING_FIELDS and value not in ("", "None"):
            return ERASED
        return identifiers.scrub(value)
    return value


# --- The audit trail ---------------------------------------------------------------------------


def redact_log_entries(objects: dict, identifiers: Identifiers) -> int:
    """Remove the identifying values from every audit entry (django-auditlog) and Django admin
    log entry of these objects ({model: [ids]}). Returns how many entries changed."""
    audit, admin = Q(pk__in=[]), Q(pk__in=[])
    for model, ids in objects.items():
        if ids:
            content_type = ContentType.objects.get_for_model(model)
            audit |= Q(content_type=content_type, object_id__in=ids)
            admin |= Q(content_type=content_type, object_id__in=[str(pk) for pk in ids])
    changed = 0
    for entry in LogEntry.objects.filter(audit).order_by("pk").iterator():
        values = {
            "object_repr": identifiers.scrub(entry.object_repr),
            "changes_text": identifiers.scrub(entry.changes_text),
            "changes": redact(entry.changes, identifiers),
            "serialized_data": redact(entry.serialized_data, identifiers),
            "additional_data": redact(entry.additional_data, identifiers),
        }
        if any(getattr(entry, name) != value for name, value in values.items()):
            LogEntry.objects.filter(pk=entry.pk).update(**values)
            changed += 1
    for entry in AdminLogEntry.objects.filter(admin).order_by("pk").iterator():
        values = {
            "object_repr": identifiers.scrub(entry.object_repr),
            "change_message": identifiers.scrub(entry.change_message),
        }
        if any(getattr(entry, name) != value for name, value in values.items()):
            AdminLogEntry.objects.filter(pk=entry.pk).update(**values)
            changed += 1
    return changed


def redact_review_comments(reviews, identifiers: Identifiers) -> int:
    """A review comment judges the operator's work: kept, without the company's values."""
    changed = 0
    for pk, comment in reviews.exclude(comment="").values_list("pk", "comment"):
        scrubbed = identifiers.scrub(comment)
        if scrubbed != comment:
            ReviewItem.objects.filter(pk=pk).update(comment=scrubbed)
            changed += 1
    return changed


# --- Kept import files -------------------------------------------------------------------------


def blank_rows(text: str, delimiter: str, identifiers: Identifiers) -> tuple[str, int]:
    """The text of a CSV file with this company's records turned into empty lines: every other
    row keeps its line number (the import report's numbers stay right), and an import skips
    empty lines. Returns the text and the number of records blanked."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), delimiter=delimiter or ",")
    blanked, start = 0, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:  # a record the csv module cannot read: looked at line by line
            cells = lines[start : reader.line_num]
        end = reader.line_num
        if identifiers.is_its_row(cells):
            for number in range(start, end):
                line = lines[number]
                lines[number] = line[len(line.rstrip("\r\n")) :]  # its line ending only
            blanked += 1
        start = end
    return "".join(lines), blanked


def redact_issues(issues: list, identifiers: Identifiers) -> list:
    """An import report's rejected rows and warnings ({line, message, content})."""
    redacted = []
    for issue in issues:
        issue = dict(issue)
        content = issue.get("content") or ""
        if content and identifiers.is_its_row(content.split(" | ")):
            issue["content"] = ERASED
        redacted.append(redact(issue, identifiers))
    return redacted


def scrub_texts(value, identifiers: Identifiers):
    """A JSON value with the company's values removed from every text (keys and other rows'
    values kept: an import preview's sample holds other companies too)."""
    if isinstance(value, dict):
        return {k: scrub_texts(v, identifiers) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_texts(v, identifiers) for v in value]
    return identifiers.scrub(value) if isinstance(value, str) else value


def redact_repeated_keys(keys: dict | None, identifiers: Identifiers) -> dict | None:
    """An import's repeated NIU keys and phones without the company's own."""
    if not keys:
        return keys
    return {kind: [k for k in values if identifiers.scrub(k) == k] for kind, values in keys.items()}


def erase_from_imports(batches, identifiers: Identifiers, written: list[str]) -> list[str]:
    """Blank the company's rows in these kept import files (a new file replaces each changed
    one; its name is appended to `written` so a rollback can delete it) and its values in their
    reports. Returns the names of the replaced files, to delete once the transaction commits."""
    replaced = []
    for batch in batches.order_by("pk"):
        values = {}
        errors = redact_issues(batch.errors, identifiers)
        warnings = redact_issues(batch.warnings, identifiers)
        if errors != batch.errors:
            values["errors"] = errors
        if warnings != batch.warnings:
            values["warnings"] = warnings
        sample = scrub_texts(batch.sample, identifiers)
        if sample != batch.sample:
            values["sample"] = sample
        repeated_keys = redact_repeated_keys(batch.repeated_keys, identifiers)
        if repeated_keys != batch.repeated_keys:
            values["repeated_keys"] = repeated_keys
        if batch.file:
            with batch.file.open("rb") as handle:
                data = handle.read()
            encoding = batch.encoding or "utf-8"
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                # Latin-1 maps every byte to one character and back: the other rows are
                # written back exactly as they were.
                encoding, text = "latin-1", data.decode("latin-1")
            text, blanked = blank_rows(text, batch.delimiter, identifiers)
            if blanked:
                storage = batch.file.storage
                name = storage.save(batch.file.name, ContentFile(text.encode(encoding)))
                written.append(name)
                if name != batch.file.name:
                    replaced.append(batch.file.name)
                values["file"] = name
        if values:
            ImportBatch.objects.filter(pk=batch.pk).update(**values)
    return replaced
