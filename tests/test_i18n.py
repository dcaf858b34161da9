"""The English catalogues are complete and up to date, the compiled ones are those the app loads,
and dates and numbers follow the active language (docs/ARCHITECTURE.md, « Languages »)."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format, get_format, number_format

from core.formats import EXTRA_FORMATS

ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po"))
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def entry_key(entry: polib.POEntry) -> tuple:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def active(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def test_every_language_but_french_has_its_two_catalogues():
    assert TRANSLATED == ["en"]
    for code in TRANSLATED:
        for domain in ("django", "djangojs"):
            assert ROOT / "locale" / code / "LC_MESSAGES" / f"{domain}.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_none_is_fuzzy(path):
    po = polib.pofile(str(path))
    assert not po.metadata_is_fuzzy, f"{path}: the header is marked fuzzy"
    assert po.metadata.get("Language") == path.parts[-3]
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    obsolete = [entry.msgid for entry in po.obsolete_entries()]
    assert not untranslated, f"{path}: no translation for {untranslated}"
    assert not fuzzy, f"{path}: fuzzy (check, then remove the flag) {fuzzy}"
    assert not obsolete, f"{path}: obsolete entries left {obsolete}"
    # The placeholders of each translation are those of its source (msgfmt's format checks).
    subprocess.run(
        ["msgfmt", "--check", "--output-file", os.devnull, str(path)],
        check=True,
        capture_output=True,
    )


def makemessages_options() -> list[str]:
    """The Makefile's MAKEMESSAGES_OPTIONS (`make catalogues`), so the test gathers strings
    exactly as developers do."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = re.search(r"^MAKEMESSAGES_OPTIONS := (.*)$", makefile, re.MULTILINE)
    assert line, "Makefile: MAKEMESSAGES_OPTIONS is missing"
    return shlex.split(line.group(1))


@pytest.fixture(scope="module")
def gathered(tmp_path_factory) -> Path:
    """A copy of the sources and catalogues where `make catalogues` runs: its catalogues are what
    the committed ones must be. (makemessages writes beside the sources, hence the copy.)"""
    copy = tmp_path_factory.mktemp("sources") / "naumur"
    skipped = {".venv", ".git", "media", "staticfiles", "tests", "bench", "docs", ".lan"}
    shutil.copytree(
        ROOT,
        copy,
        ignore=lambda folder, names: [
            name
            for name in names
            if (Path(folder) == ROOT and name in skipped)
            or name in {"__pycache__", "node_modules"}
            or name.endswith((".mo", ".sqlite3", ".pyc", ".log"))
        ],
    )
    environment = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment.pop("DATABASE_URL", None)
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--domain", domain]
            + makemessages_options(),
            cwd=copy,
            env=environment,
            check=True,
            capture_output=True,
        )
    return copy


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_catalogues_hold_exactly_the_strings_of_the_sources(path, gathered):
    committed = {entry_key(entry) for entry in active(polib.pofile(str(path)))}
    fresh = {
        entry_key(entry) for entry in active(polib.pofile(str(gathered / path.relative_to(ROOT))))
    }
    new = sorted(fresh - committed, key=str)
    gone = sorted(committed - fresh, key=str)
    assert not new, f"strings of the sources missing from {path}: run `make catalogues`: {new}"
    assert not gone, f"{path} holds strings no source uses: run `make catalogues`: {gone}"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_compiled_catalogue_is_the_one_the_app_speaks(path, client):
    """Every entry of the .po, asked of Django in its language, gives its translation: the .mo
    is compiled from this .po and lies where the app looks (LOCALE_PATHS); the JavaScript one
    is what the page's catalogue script serves."""
    language, domain = path.parts[-3], path.stem
    po = polib.pofile(str(path))
    if domain == "djangojs":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        script = client.get(reverse("javascript-catalog")).content.decode()
        catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.S).group(1))
    with translation.override(language):
        for entry in active(po):
            if domain == "djangojs":
                expected = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
                found = catalog.get(entry.msgid)
                found = found[0] if isinstance(found, list) else found
            elif entry.msgid_plural:
                expected = entry.msgstr_plural[1]
                found = translation.ngettext(entry.msgid, entry.msgid_plural, 2)
            elif entry.msgctxt:
                expected, found = entry.msgstr, translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                expected, found = entry.msgstr, translation.gettext(entry.msgid)
            assert found == expected, f"{path}: {entry.msgid!r} is not compiled"


# --- Formats ---


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_every_language_defines_the_extra_format_names(language):
    for name in EXTRA_FORMATS:
        value = get_format(name, lang=language)
        assert value != name, f"{name} is not defined for {language} (core/formats/)"


MOMENT = datetime(2026, 11, 29, 14, 44, 5)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            {
                "SHORT_DATETIME_FORMAT": "29/11/2026 14:44",
                "SHORT_DATE_FORMAT": "29/11/2026",
                "DATE_FORMAT": "29 novembre 2026",
                "TIME_FORMAT": "14:44",
                "SHORT_DATETIME_SECONDS_FORMAT": "29/11/2026 14:44:05",
                "WEEKDAY_DAY_MONTH_FORMAT": "dimanche 29/11",
                "WEEKDAY_DATETIME_FORMAT": "dimanche 29/11/2026 14:44",
            },
        ),
        (
            "en",
            {
                "SHORT_DATETIME_FORMAT": "29/11/2026 14:44",
                "SHORT_DATE_FORMAT": "29/11/2026",
                "DATE_FORMAT": "29 November 2026",
                "TIME_FORMAT": "14:44",
                "SHORT_DATETIME_SECONDS_FORMAT": "29/11/2026 14:44:05",
                "WEEKDAY_DAY_MONTH_FORMAT": "Sunday 29/11",
                "WEEKDAY_DATETIME_FORMAT": "Sunday 29/11/2026 14:44",
            },
        ),
    ],
)
def test_dates_are_written_the_way_each_language_reads_them(language, expected):
    with translation.override(language):
        for name, text in expected.items():
            assert date_format(MOMENT, name) == text, name


@pytest.mark.parametrize(
    ("language", "decimal", "grouped", "template"),
    [
        ("fr", "55,60", "200\xa0000", "55,60 · 29/11/2026 14:44 · 29 novembre 2026"),
        ("en", "55.60", "200,000", "55.60 · 29/11/2026 14:44 · 29 November 2026"),
    ],
)
def test_numbers_follow_the_language_in_code_and_templates(language, decimal, grouped, template):
    with translation.override(language):
        assert number_format(Decimal("55.60"), 2) == decimal
        assert number_format(200000, force_grouping=True) == grouped
        rendered = Template(
            '{{ score }} · {{ when|date:"SHORT_DATETIME_FORMAT" }} · {{ day|date:"DATE_FORMAT" }}'
        ).render(Context({"score": Decimal("55.60"), "when": MOMENT, "day": date(2026, 11, 29)}))
        assert rendered == template


def test_the_dashboard_filters_format_percentages_per_language():
    from calls.templatetags.dashboard import share, tenths

    with translation.override("fr"):
        assert share(17.63) == "17,6\xa0%"
        assert tenths(1234.5) == "1\xa0234,5"
    with translation.override("en"):
        assert share(17.63) == "17.6%"
        assert tenths(1234.5) == "1,234.5"


# Formats a machine reads (URLs, datetime inputs, ISO instants) are the only literal ones left.
MACHINE_FORMATS = {"Y-m-d", "c", r"Y-m-d\TH:i", "U"}


def test_templates_name_their_date_formats_instead_of_writing_french_ones():
    """`|date:"d/m/Y H:i"` would force French dates on English pages: templates name a format of
    core/formats (SHORT_DATETIME_FORMAT, TIME_SECONDS_FORMAT...) or write one a machine reads."""
    literal = re.compile(r"""\|(?:date|time):(["'])(.*?)\1""")
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        for match in literal.finditer(template.read_text()):
            fmt = match.group(2)
            if fmt not in MACHINE_FORMATS and not re.fullmatch(r"[A-Z_]+_FORMAT", fmt):
                offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders


def test_python_code_names_its_date_formats_too():
    """date_format() and the tables' date columns (django-tables2 passes `format` to |date) name
    a format as templates do. (strftime stays for what a machine or a form field reads back.)"""
    calls = re.compile(
        r"""(?:date_format|time_format)\((?:[^()]|\([^()]*\))*?,\s*(["'])(.*?)\1"""
        r"""|(?:DateTimeColumn|DateColumn)\((?:[^()]|\([^()]*\))*?format=(["'])(.*?)\3""",
        re.S,
    )
    offenders = []
    for source in ROOT.glob("*/**/*.py"):
        if {".venv", "tests", "bench", "migrations"} & set(source.relative_to(ROOT).parts):
            continue
        for match in calls.finditer(source.read_text()):
            fmt = match.group(2) or match.group(4)
            if fmt not in MACHINE_FORMATS and not re.fullmatch(r"[A-Z_]+_FORMAT", fmt):
                offenders.append(f"{source.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders
