"""The columns an import understands: the company field (or the company's other numbers, or its
contact person) each one fills, its label on the preview, the names people give it in a header
row, and the order assumed when a file has no header.

To read one more column, add a Column to COLUMNS; header matching, the preview's mapping and the
required-column check follow from it. How a cell becomes a value is in rows.py (`kind`).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from companies.models import Company, CompanyPhone, ContactPerson, PhoneLabel, Status

# What a column holds, which says how rows.py reads it and where it goes.
TEXT = "text"  # a Company text field, kept as typed up to the field's length
SCORE = "score"  # Company.validity_score, as people type numbers
STATUS = "status"  # Company.status, on the companies an import creates
PHONE = "phone"  # one more of the company's numbers (a CompanyPhone with the column's label)
PERSON = "person"  # a field of the company's contact person (ContactPerson.<target>)
IGNORED = "ignored"  # recognised so as to be left out on purpose, the preview says why


@dataclass(frozen=True)
class Column:
    field: str  # the Company field it fills, or the name of its value in a row
    label: Promise  # how the preview names it
    aliases: tuple[str, ...]  # header names, compared once header_key() has cleaned them
    kind: str = TEXT
    required: bool = False
    phone_label: str = ""  # PHONE: the label of its numbers
    target: str = ""  # PERSON: the ContactPerson field it fills

    @property
    def max_length(self) -> int | None:
        if self.kind == TEXT:
            return Company._meta.get_field(self.field).max_length
        if self.kind == PHONE:
            return CompanyPhone._meta.get_field("number").max_length
        if self.kind == PERSON:
            return ContactPerson._meta.get_field(self.target).max_length
        return None


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
            "contact telephonique",
            "telephone 1",
            "tel 1",
            "phone 1",
            "telephone principal",
            "telephone de l'entreprise",
        ),
        required=True,
        phone_label=PhoneLabel.STANDARD,
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
    Column("status", gettext_lazy("statut"), ("status", "statut", "etat", "state"), kind=STATUS),
    # The company's other numbers, each with its label. A file without a « téléphone » column
    # takes its main number from the first of these it has, in this order.
    Column(
        "standard",
        gettext_lazy("standard"),
        (
            "standard",
            "switchboard",
            "telephone standard",
            "tel standard",
            "numero du standard",
            "telephone fixe",
            "tel fixe",
            "fixe",
            "ligne fixe",
        ),
        kind=PHONE,
        phone_label=PhoneLabel.STANDARD,
    ),
    Column(
        "phone_2",
        gettext_lazy("téléphone 2"),
        (
            "telephone 2",
            "tel 2",
            "phone 2",
            "telephone n 2",
            "autre telephone",
            "autre numero",
            "telephone secondaire",
            "second telephone",
            "other phone",
        ),
        kind=PHONE,
        phone_label=PhoneLabel.OTHER,
    ),
    Column(
        "phone_3",
        gettext_lazy("téléphone 3"),
        ("telephone 3", "tel 3", "phone 3", "telephone n 3"),
        kind=PHONE,
        phone_label=PhoneLabel.OTHER,
    ),
    Column(
        "mobile",
        gettext_lazy("mobile"),
        (
            "mobile",
            "portable",
            "cellulaire",
            "gsm",
            "cell",
            "mobile phone",
            "telephone mobile",
            "telephone portable",
            "tel mobile",
            "tel portable",
            "numero mobile",
            "numero portable",
            "tel cellulaire",
            "mobile 1",
            "portable 1",
        ),
        kind=PHONE,
        phone_label=PhoneLabel.MOBILE,
    ),
    Column(
        "mobile_2",
        gettext_lazy("mobile 2"),
        ("mobile 2", "portable 2", "gsm 2", "autre mobile", "autre portable"),
        kind=PHONE,
        phone_label=PhoneLabel.MOBILE,
    ),
    # The person to ask for: one per row, all four columns optional.
    Column(
        "contact_name",
        gettext_lazy("nom du contact"),
        (
            "nom du contact",
            "contact",
            "nom contact",
            "contact name",
            "interlocuteur",
            "nom de l'interlocuteur",
            "personne a contacter",
            "personne de contact",
            "nom du responsable",
            "directeur",
            "nom du directeur",
            "dirigeant",
            "nom du dirigeant",
            "gerant",
        ),
        kind=PERSON,
        target="name",
    ),
    Column(
        "contact_role",
        gettext_lazy("fonction du contact"),
        (
            "fonction",
            "poste",
            "fonction du contact",
            "poste du contact",
            "fonction de l'interlocuteur",
            "qualite",
            "role",
            "job title",
        ),
        kind=PERSON,
        target="role",
    ),
    Column(
        "contact_phone",
        gettext_lazy("ligne directe du contact"),
        (
            "telephone du contact",
            "tel du contact",
            "telephone contact",
            "tel contact",
            "mobile du contact",
            "portable du contact",
            "telephone de l'interlocuteur",
            "ligne directe",
            "tel direct",
            "telephone direct",
            "numero direct",
        ),
        kind=PERSON,
        target="phone",
    ),
    Column(
        "contact_email",
        gettext_lazy("e-mail du contact"),
        (
            "e-mail",
            "courriel",
            "mail",
            "adresse e-mail",
            "adresse mail",
            "adresse electronique",
            "e-mail du contact",
            "courriel du contact",
        ),
        kind=PERSON,
        target="email",
    ),
    # A fax is not a number to call: named here so that it is never read as one, and so that
    # the preview says why it is left out.
    Column(
        "fax",
        gettext_lazy("ignorée : un fax n'est pas un numéro à appeler"),
        ("fax", "telecopie", "telecopieur", "numero de fax", "fax number"),
        kind=IGNORED,
    ),
]

BY_FIELD = {column.field: column for column in COLUMNS}
# A file without a header row: the company's columns, in this order.
FIELDS = [column.field for column in COLUMNS if column.kind in (TEXT, SCORE, STATUS)]
FIELD_LABELS = {column.field: column.label for column in COLUMNS}
REQUIRED_FIELDS = [column.field for column in COLUMNS if column.required]
TEXT_FIELDS = [column.field for column in COLUMNS if column.kind == TEXT]
# The company information an import writes (the status only on companies it creates).
INFO_FIELDS = [column.field for column in COLUMNS if column.kind in (TEXT, SCORE)]
# The cells kept as typed, up to a length: the company's text, its other numbers, its contact.
MAX_LENGTHS = {c.field: c.max_length for c in COLUMNS if c.kind in (TEXT, PHONE, PERSON)}
EMPTY_VALUES = {**dict.fromkeys(TEXT_FIELDS, ""), "validity_score": None}
PHONE_FIELDS = [column.field for column in COLUMNS if column.kind == PHONE]
PERSON_FIELDS = [column.field for column in COLUMNS if column.kind == PERSON]
IGNORED_FIELDS = {column.field for column in COLUMNS if column.kind == IGNORED}

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


def with_main_phone(columns: list[str | None]) -> tuple[list[str | None], str]:
    """The columns of a header (a field name per column, None when ignored), with the main
    number taken from the company's first other number when the file has no « téléphone »
    column (a list whose only number is « Portable »), and the label of that main number."""
    columns = [None if name in IGNORED_FIELDS else name for name in columns]
    if "phone" in columns:
        return columns, PhoneLabel.STANDARD
    for name in PHONE_FIELDS:
        if name in columns:
            columns[columns.index(name)] = "phone"
            return columns, BY_FIELD[name].phone_label
    return columns, PhoneLabel.STANDARD


@functools.lru_cache(maxsize=256)
def status_for(raw: str) -> str | None:
    return STATUS_KEYS.get(header_key(raw))
