"""`manage.py export_calls`: the /export/ page's export, written to a file (same form, same
writers). Examples:

    manage.py export_calls --format xlsx --scope companies --campaign "Enquête 2026" -o out.xlsx
    manage.py export_calls --format csv --delimiter ";" --from 2026-03-01 --to 2026-03-31
"""

import os
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from companies.models import Campaign
from exports.forms import ExportForm
from exports.writers import (
    Export,
    ExportFormat,
    export_filename,
    recording_link_template,
    write_csv,
)


class Command(BaseCommand):
    requires_system_checks = []  # a read-only data command, like dumpdata

    help = (
        "Exporte les appels validés (ou les entreprises avec leur dernier résultat) en CSV ou "
        "XLSX, avec les mêmes colonnes et filtres que la page /export/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", default="csv", help="csv (défaut) ou xlsx")
        parser.add_argument(
            "--delimiter",
            default=",",
            help="séparateur CSV : « , » (défaut) ou « ; » (Excel en français, décimales "
            "avec virgule)",
        )
        parser.add_argument(
            "--scope",
            default="calls",
            help="calls : une ligne par appel (défaut) ; companies : une ligne par entreprise",
        )
        parser.add_argument("--campaign", help="identifiant ou nom exact de la campagne")
        parser.add_argument("--from", dest="date_from", help="appels à partir du AAAA-MM-JJ")
        parser.add_argument("--to", dest="date_to", help="appels jusqu'au AAAA-MM-JJ inclus")
        parser.add_argument("--operator", help="identifiant de connexion de l'opérateur")
        parser.add_argument(
            "--number-status", help="invalid, no_answer, voicemail ou answered (statut numéros)"
        )
        parser.add_argument(
            "--call-status",
            help="bad_number, not_transformer, callback, refused ou accepted (statut appel)",
        )
        parser.add_argument(
            "--base-url",
            help="adresse du site (ex. https://naumur.example.org) pour des liens "
            "d'enregistrement absolus ; sans elle, les liens sont relatifs",
        )
        parser.add_argument(
            "-o",
            "--output",
            help="fichier à écrire (défaut : nom standard dans le dossier courant) ; "
            "« - » pour la sortie standard (CSV seulement)",
        )

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self.export(options)

    def export(self, options) -> None:
        form = ExportForm(self.form_data(options))
        if not form.is_valid():
            messages = [
                f"{form.fields[name].label if name in form.fields else ''} : {error}".lstrip(" :")
                for name, errors in form.errors.items()
                for error in errors
            ]
            raise CommandError("Export impossible : " + " ; ".join(messages))

        file_format, scope = form.cleaned_data["format"], form.cleaned_data["scope"]
        base_url = (options["base_url"] or "").rstrip("/")
        link = recording_link_template((lambda path: base_url + path) if base_url else None)
        export = Export(scope, form.filters(), link)
        is_xlsx = file_format == ExportFormat.XLSX
        output = options["output"] or export_filename(
            form.cleaned_data["campaign"], scope, "xlsx" if is_xlsx else "csv"
        )

        if output == "-":
            if is_xlsx:
                raise CommandError("Le format XLSX s'écrit dans un fichier : indiquez -o FICHIER.")
            rows = write_csv(export, sys.stdout.buffer, options["delimiter"])
            sys.stdout.buffer.flush()
            self.stderr.write(f"{rows} ligne(s) exportée(s).")
            return

        rows = self.write_file(Path(output), export, is_xlsx, options["delimiter"])
        self.stdout.write(self.style.SUCCESS(f"{rows} ligne(s) exportée(s) dans {output}."))
        if not base_url:
            self.stdout.write(
                "Liens d'enregistrement relatifs : ajoutez --base-url pour les rendre cliquables."
            )

    def write_file(self, path: Path, export: Export, is_xlsx: bool, delimiter: str) -> int:
        """Write next to the target then rename, so a failed export never leaves half a file."""
        directory = path.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"Dossier introuvable : {directory}")
        handle, partial = tempfile.mkstemp(dir=directory, prefix=".naumur-export-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                if is_xlsx:
                    from exports.xlsx import write_xlsx  # xlsxwriter takes long to import

                    rows = write_xlsx(export, file)
                else:
                    rows = write_csv(export, file, delimiter)
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return rows

    def form_data(self, options) -> dict:
        file_format = (options["format"] or "").lower()
        if file_format == "csv":
            if options["delimiter"] not in {",", ";"}:
                raise CommandError("Séparateur CSV inconnu : utilisez « , » ou « ; ».")
            if options["delimiter"] == ";":
                file_format = ExportFormat.CSV_SEMICOLON
        data = {
            "format": file_format,
            "scope": options["scope"],
            "date_from": options["date_from"] or "",
            "date_to": options["date_to"] or "",
            "number_status": options["number_status"] or "",
            "call_status": options["call_status"] or "",
            "campaign": self.campaign_id(options["campaign"]),
            "operator": self.operator_id(options["operator"]),
        }
        return data

    def campaign_id(self, value: str | None) -> str:
        if not value:
            return ""
        campaigns = Campaign.objects.filter(name=value).values_list("pk", flat=True)
        if value.isdigit() and not campaigns:
            return value  # the form says whether that id exists
        found = list(campaigns[:2])
        if len(found) != 1:
            raise CommandError(f"Campagne introuvable : « {value} » (nom exact ou identifiant).")
        return str(found[0])

    def operator_id(self, username: str | None) -> str:
        if not username:
            return ""
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"Opérateur introuvable : « {username} » (identifiant de connexion)."
            )
        return str(user.pk)
