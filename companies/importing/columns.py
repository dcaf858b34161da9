"""The columns an import understands: the company field each one fills, its label on the preview,
the names people give it in a header row, and the order assumed when a file has no header.

To read one more column, add a Column to COLUMNS; header matching, the preview's mapping and the
required-column check follow from it. How a cell becomes a value is in rows.py (`kind`).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from companies.models import Company, Status


@dataclass(frozen=True)
class Column:
    field: str  # the Company field it fills
    label: Promise  # how the preview names it
    aliases: tuple[str, ...]  # header names, compared once header_key() has cleaned them
    kind: str = "text"  # "text" (kept as typed, up to the field's length), "score", "status"
    required: bool = False


# In the order assumed when a file has no header row.
COLUMNS = [
    Column(
        "name",
        gettext_lazy("entreprise"),
        (
            "name",
            "nom",
            "raison sociale",
            "entreprise",
            "company",
            "company name",
            "societe",
            "nom entreprise",
            "nom de l'entreprise",
            "denomination",
            "denomination sociale",
        ),
        required=True,
    ),
    Column(
        "phone",
        gettext_lazy("téléphone"),
        (
            "phone",
            "telephone",
            "tel",
            "phone number",
            "numero de telephone",
            "numero telephone",
            "num tel",
            "mobile",
            "portable",
            "contact telephonique",
        ),
        required=True,
    ),
    Column("product", gettext_lazy("produit"), ("product", "produit", "produits", "products")),
    Column(
        "activity",
        gettext_lazy("activité"),
        (
            "activity",
            "activite",
            "activites",
            "secteur",
            "secteur d'activite",
            "activite principale",
        ),
    ),
    Column(
        "location",
        gettext_lazy("localisation"),
        ("location", "localisation", "ville", "city", "localite", "town", "commune"),
    ),
    Column(
        "legal_form",
        gettext_lazy("forme juridique"),
        ("legal_form", "legal form", "forme juridique", "statut juridique", "forme"),
    ),
    Column(
        "niu",
        gettext_lazy("NIU"),
        ("niu", "numero d'identifiant unique", "identifiant unique", "numero contribuable"),
    ),
    Column(
        "validity_score",
        gettext_lazy("score"),
        ("validity_score", "validity score", "score", "score de validite", "validite"),
        kind="score",
    ),
    Column("status", gettext_lazy("statut"), ("status", "statut", "etat", "state"), kind="status"),
]

FIELDS = [column.field for column in COLUMNS]
FIELD_LABELS = {column.field: column.label for column in COLUMNS}
REQUIRED_FIELDS = [column.field for column in COLUMNS if column.required]
TEXT_FIELDS = [column.field for column in COLUMNS if column.kind == "text"]
# The company information an import writes (the status only on companies it creates).
INFO_FIELDS = [column.field for column in COLUMNS if column.kind != "status"]
MAX_LENGTHS = {name: Company._meta.get_field(name).max_length for name in TEXT_FIELDS}
EMPTY_VALUES = {**dict.fromkeys(TEXT_FIELDS, ""), "validity_score": None}

# Status values as people write them (keys pass through header_key too).
STATUS_VALUES = {
    "pending": Status.PENDING,
    "a appeler": Status.PENDING,
    "afaire": Status.PENDING,
    "nouveau": Status.PENDING,
    "new": Status.PENDING,
    "in_progress": Status.IN_PROGRESS,
    "en cours": Status.IN_PROGRESS,
    "callback": Status.CALLBACK,
    "rappel": Status.CALLBACK,
    "a rappeler": Status.CALLBACK,
    "done": Status.DONE,
    "termine": Status.DONE,
    "fini": Status.DONE,
}

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(text: str) -> str:
    """A header cell without accents, case, spaces, underscores or punctuation."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", text.replace("œ", "oe").replace("æ", "ae"))


ALIAS_TO_FIELD = {header_key(alias): c.field for c in COLUMNS for alias in c.aliases}
# Longer aliases also match as a prefix ("Téléphone portable", "Score de validité (%)").
PREFIX_ALIASES = sorted(
    ((key, name) for key, name in ALIAS_TO_FIELD.items() if len(key) >= 5),
    key=lambda item: -len(item[0]),
)
STATUS_KEYS = {header_key(text): status for text, status in STATUS_VALUES.items()}


def field_for_header(cell: str) -> str | None:
    key = header_key(cell)
    if not key:
        return None
    if key in ALIAS_TO_FIELD:
        return ALIAS_TO_FIELD[key]
    for number_sign in ("numero", "num", "no", "n"):  # "N° Tél", "No téléphone"
        if key.startswith(number_sign) and key[len(number_sign) :] in ALIAS_TO_FIELD:
            return ALIAS_TO_FIELD[key[len(number_sign) :]]
    for alias, name in PREFIX_ALIASES:  # "Téléphone portable", "Score de validité (%)"
        if key.startswith(alias):
            return name
    for alias, name in PREFIX_ALIASES:  # "Ville / localité du siège", "Tél. (téléphone)"
        if len(alias) >= 6 and alias in key:
            return name
    return None


@functools.lru_cache(maxsize=256)
def status_for(raw: str) -> str | None:
    return STATUS_KEYS.get(header_key(raw))
