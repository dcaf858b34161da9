"""The /import-entreprises/ pages: upload → preview → apply, history, corrections."""

import csv
import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from companies.models import Campaign, Company, ImportBatch, ImportMode
from tests.companies.conftest import sample

IMPORT_URL = reverse("companies:import")


def text(response) -> str:
    """The page as a person reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def upload(client, name="liste.csv", data=None, headers=None, **fields):
    data = sample("mixed_bad.csv") if data is None else data
    payload = {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "mode": "new"}
    payload.update(fields)
    return client.post(IMPORT_URL, payload, headers=headers or {})


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def as_supervisor(client, supervisor):
    client.force_login(supervisor)
    return client


def test_the_import_page_shows_the_form_and_the_history(as_supervisor, run_import):
    run_import(sample("no_header.csv"), name="Campagne déjà importée")

    response = as_supervisor.get(IMPORT_URL)

    content = text(response)
    assert response.status_code == 200
    assert "Téléverser et prévisualiser" in content
    assert "Historique des imports" in content
    assert "Campagne déjà importée" in content and "Appliqué" in content
    assert 'id="upload-progress"' in content and "htmx:xhr:progress" in content


def test_upload_shows_a_preview_and_writes_no_company(as_supervisor):
    response = upload(as_supervisor, campaign_name="Enquête Douala")

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:import_preview", kwargs={"pk": batch.pk})
    assert not Company.objects.exists() and not Campaign.objects.exists()
    assert batch.applied_at is None and batch.original_name == "liste.csv"
    assert batch.file.read() == sample("mixed_bad.csv")  # the file is kept, as uploaded

    page = text(as_supervisor.get(response["Location"]))
    assert "Aperçu de l'import" in page
    assert "UTF-8" in page and "point-virgule" in page
    assert "forme juridique" in page  # the column mapping
    for line, reason in [(3, "Nom de l'entreprise manquant."), (4, "Téléphone manquant.")]:
        assert f"<td>{line}</td><td>{reason}</td>" in page
    assert "Bonne Entreprise 1" in page  # first rows
    assert 'data-count="À créer">7<' in page and 'data-count="Rejetées">5<' in page
    assert "Enregistrer</button>" in page


def test_the_preview_is_read_from_the_kept_file_not_the_session(client, supervisor, roles):
    from tests.conftest import make_user

    client.force_login(supervisor)
    upload(client)
    batch = ImportBatch.objects.get()
    other = make_user("superviseur2", "Superviseurs")
    client.logout()
    client.force_login(other)  # a brand new session

    page = client.get(reverse("companies:import_preview", kwargs={"pk": batch.pk}))

    assert page.status_code == 200
    assert "Bonne Entreprise 1" in text(page)


def test_apply_imports_and_the_result_page_repeats_the_counts(as_supervisor):
    upload(as_supervisor, campaign_name="Enquête Douala")
    batch = ImportBatch.objects.get()

    response = as_supervisor.post(reverse("companies:import_apply", kwargs={"pk": batch.pk}))

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Enquête Douala")
    assert Company.objects.filter(campaign=campaign).count() == 7
    page = text(as_supervisor.get(response["Location"]))
    assert "Résultat de l'import" in page and "Import appliqué le" in page
    assert 'data-count="Créées">7<' in page and 'data-count="Rejetées">5<' in page
    assert "Import enregistré : 7 créées" in page
    assert "Enregistrer</button>" not in page  # nothing left to apply


def test_apply_twice_changes_nothing_the_second_time(as_supervisor):
    upload(as_supervisor)
    batch = ImportBatch.objects.get()
    url = reverse("companies:import_apply", kwargs={"pk": batch.pk})
    as_supervisor.post(url)

    response = as_supervisor.post(url, follow=True)

    assert "Cet import a déjà été appliqué." in text(response)
    assert Company.objects.count() == 7


def test_replace_mode_asks_to_confirm_with_its_own_button(as_supervisor, campaign, make_company):
    make_company(name="Ancienne", phone="677111111", niu="")

    upload(as_supervisor, mode="replace", campaign=campaign.pk)

    batch = ImportBatch.objects.get()
    page = as_supervisor.get(reverse("companies:import_preview", kwargs={"pk": batch.pk}))
    content = text(page)
    assert "Enregistrer et remplacer la base" in content
    assert 'data-count="À supprimer (sans appel)">1<' in content


def test_add_and_replace_need_a_campaign(as_supervisor):
    response = upload(as_supervisor, mode="add")

    assert response.status_code == 200
    assert "Choisissez la campagne à compléter ou à remplacer." in text(response)
    assert not ImportBatch.objects.exists()


def test_a_new_campaign_cannot_take_an_existing_name(as_supervisor, campaign):
    response = upload(as_supervisor, campaign_name=campaign.name)

    assert "Une campagne porte déjà ce nom" in text(response)
    assert not ImportBatch.objects.exists()


def test_the_default_campaign_name_is_the_file_name_and_date(as_supervisor):
    upload(as_supervisor, name="partenaires_nord.csv")

    assert ImportBatch.objects.get().campaign_name.startswith("partenaires_nord (")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "Le fichier est vide."),
        ("header_only.csv", "ne contient que la ligne d'en-tête"),
        ("image.csv", "Ce fichier est une image, pas un CSV."),
        ("classeur.csv", "Ce fichier est un classeur"),
        ("binary.csv", "n'est pas un fichier texte"),
    ],
)
def test_a_bad_file_gets_a_french_message_and_changes_nothing(as_supervisor, name, message):
    response = upload(as_supervisor, name="liste.csv", data=sample(name))

    assert response.status_code == 200
    assert message in text(response)
    assert not ImportBatch.objects.exists() and not Campaign.objects.exists()


def test_a_file_over_the_limit_is_refused(as_supervisor, settings):
    settings.IMPORT_MAX_BYTES = 200

    response = upload(as_supervisor)

    assert "c'est plus que la limite de 200" in text(response)
    assert not ImportBatch.objects.exists()


def test_htmx_upload_redirects_the_page_or_returns_the_form_fragment(as_supervisor):
    bad = upload(as_supervisor, data=b"", headers={"HX-Request": "true"})
    assert bad.status_code == 200
    assert "<html" not in text(bad) and 'id="upload-form"' in text(bad)

    good = upload(as_supervisor, headers={"HX-Request": "true"})
    batch = ImportBatch.objects.get()
    assert good["HX-Redirect"] == reverse("companies:import_preview", kwargs={"pk": batch.pk})


def test_the_reading_can_be_corrected_on_the_preview(as_supervisor):
    upload(as_supervisor, data=sample("bom_semicolon.csv"))
    batch = ImportBatch.objects.get()
    assert batch.has_header is True and batch.rows_total == 3
    url = reverse("companies:import_preview", kwargs={"pk": batch.pk})

    response = as_supervisor.post(
        url, {"encoding": "utf-8-sig", "delimiter": ";", "has_header": "non", "campaign_name": "X"}
    )

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.has_header is False and batch.rows_total == 4 and batch.campaign_name == "X"
    assert "Fichier relu avec ces réglages." in text(as_supervisor.get(url))


def test_a_wrong_encoding_choice_is_explained(as_supervisor):
    upload(as_supervisor, data=sample("excel_unicode.txt"))
    batch = ImportBatch.objects.get()

    response = as_supervisor.post(
        reverse("companies:import_preview", kwargs={"pk": batch.pk}),
        {"encoding": "utf-8", "delimiter": "\t", "has_header": "oui", "campaign_name": ""},
    )

    assert response.status_code == 200
    assert "Le fichier ne se lit pas en UTF-8" in text(response)
    batch.refresh_from_db()
    assert batch.encoding == "utf-16"


def test_discard_removes_the_batch_and_its_file(as_supervisor):
    upload(as_supervisor)
    batch = ImportBatch.objects.get()
    storage, name = batch.file.storage, batch.file.name

    as_supervisor.post(reverse("companies:import_discard", kwargs={"pk": batch.pk}))

    assert not ImportBatch.objects.exists() and not storage.exists(name)


def test_an_applied_import_stays_in_the_history(as_supervisor, run_import):
    _preview, _applied, batch = run_import(sample("no_header.csv"))

    as_supervisor.post(reverse("companies:import_discard", kwargs={"pk": batch.pk}))

    assert ImportBatch.objects.filter(pk=batch.pk).exists()


def test_rejected_rows_download_as_csv(as_supervisor):
    upload(as_supervisor)
    batch = ImportBatch.objects.get()

    response = as_supervisor.get(reverse("companies:import_rejects", kwargs={"pk": batch.pk}))

    text = downloaded(response).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "ligne;motif;contenu"
    assert "3;Nom de l'entreprise manquant.;" in text
    assert len(text.splitlines()) == 1 + 5


def test_the_original_file_can_be_downloaded(as_supervisor):
    upload(as_supervisor, name="partenaires.csv")
    batch = ImportBatch.objects.get()

    response = as_supervisor.get(reverse("companies:import_file", kwargs={"pk": batch.pk}))

    assert downloaded(response) == sample("mixed_bad.csv")
    assert 'filename="partenaires.csv"' in response["Content-Disposition"]


def test_a_long_file_name_is_kept_in_full_but_stored_short(as_supervisor):
    long_name = "liste_" + "tres_longue_" * 20 + ".csv"

    upload(as_supervisor, name=long_name)

    batch = ImportBatch.objects.get()
    assert batch.original_name == long_name
    assert len(batch.file.name) <= 100


def test_only_supervisors_may_correct_or_apply(client, operator, supervisor, run_import):
    client.force_login(supervisor)
    upload(client)
    batch = ImportBatch.objects.get()
    client.force_login(operator)

    assert (
        client.post(reverse("companies:import_apply", kwargs={"pk": batch.pk})).status_code == 403
    )
    assert (
        client.post(reverse("companies:import_preview", kwargs={"pk": batch.pk}), {}).status_code
        == 403
    )
    assert not Company.objects.exists()


def test_mode_choices_are_the_three_of_design():
    assert [value for value, _label in ImportMode.choices] == ["new", "add", "replace"]


def test_rejected_rows_that_look_like_formulas_download_as_text(as_supervisor):
    data = b'"=HYPERLINK(""http://x"")";\n+237 6 99;\nEts Kola;\nEts Bon;677000001\n'
    upload(as_supervisor, data=b"name;phone\n" + data)
    batch = ImportBatch.objects.get()

    response = as_supervisor.get(reverse("companies:import_rejects", kwargs={"pk": batch.pk}))

    rows = list(csv.reader(io.StringIO(downloaded(response).decode("utf-8-sig")), delimiter=";"))
    assert [row[2] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x") | ',
        "'+237 6 99 | ",
        "Ets Kola | ",
    ]


def test_an_import_kept_before_the_list_was_a_file_downloads_its_errors(as_supervisor):
    upload(as_supervisor)
    batch = ImportBatch.objects.get()
    batch.rejects.delete(save=False)
    batch.errors = [
        {"line": 2, "message": "Téléphone invalide.", "content": '=HYPERLINK("http://x")'},
        {"line": 4, "message": "Nom manquant.", "content": "Ets Kola"},
    ]
    batch.save()

    response = as_supervisor.get(reverse("companies:import_rejects", kwargs={"pk": batch.pk}))

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["ligne", "motif", "contenu"],
        ["2", "Téléphone invalide.", '\'=HYPERLINK("http://x")'],
        ["4", "Nom manquant.", "Ets Kola"],
    ]


def test_the_preview_shows_scores_with_a_decimal_comma(as_supervisor):
    data = "entreprise;téléphone;score\nEts Kola;+237 6 99 11 22 33;50.5\n".encode()
    response = upload(as_supervisor, data=data, campaign_name="Scores")

    page = text(as_supervisor.get(response["Location"]))

    assert "<td>50,50</td>" in page and "50.50" not in page


def test_the_admin_shows_what_the_pipeline_wrote_without_letting_it_be_edited(
    client, admin_user, run_import
):
    _preview, _applied, batch = run_import(sample("mixed_bad.csv"))
    client.force_login(admin_user)

    page = text(client.get(reverse("admin:companies_importbatch_change", args=[batch.pk])))

    assert "Jeton du traitement" in page and "Clés répétées" in page
    for name in ("job", "job_token", "job_progress", "repeated_keys", "sample", "rejects"):
        assert f'name="{name}"' not in page, name


@pytest.mark.parametrize("name", ["extra_numbers_utf8.csv", "extra_numbers_cp1252.csv"])
def test_the_preview_shows_the_other_numbers_and_the_contact_columns(as_supervisor, name):
    response = upload(as_supervisor, data=sample(name), campaign_name="Plusieurs numéros")

    page = text(as_supervisor.get(response["Location"]))

    # The mapping names every column, the fax as left out on purpose.
    assert "<td>mobile</td>" in page and "<td>nom du contact</td>" in page
    assert "<td>e-mail du contact</td>" in page
    assert "ignorée : un fax n'est pas un numéro à appeler" in page
    # The first rows show the other numbers with their label, and the contact.
    assert '<th scope="col">Autres numéros</th>' in page
    assert '<th scope="col">Personne à contacter</th>' in page
    if name == "extra_numbers_utf8.csv":
        assert "Mobile : 699 11 22 33" in page and "Ligne directe : 655 44 33 22" in page
        assert "Mme Ngo Bénoué · Directrice générale" in page
        # What was left out of the line is said in the warnings.
        assert "Autre : 12" not in page
        assert "Colonne « téléphone 2 » : « 12 » n'est pas un numéro de téléphone" in page
    else:
        assert "Mobile : 699.00.11.22" in page
        assert "M. Étienne Mbarga · Gérant · 699.00.11.22 · e.mbarga@oeuvre.cm" in page


def test_a_list_without_other_numbers_shows_no_empty_columns(as_supervisor):
    response = upload(as_supervisor)

    page = text(as_supervisor.get(response["Location"]))

    assert "Autres numéros" not in page and "Personne à contacter" not in page


def test_a_hostile_contact_is_shown_as_text_on_the_preview(as_supervisor):
    data = "name;phone;mobile;contact\nEts X;677111111;<b>699</b>;<script>alert(1)</script>\n"

    response = upload(as_supervisor, data=data.encode())
    raw = as_supervisor.get(response["Location"]).content.decode()

    assert "<script>alert(1)</script>" not in raw and "<b>699</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
