"""Import a company list from the command line, with the same reading, checks and report as
the /import-entreprises/ page.

    python manage.py import_companies liste.csv
    python manage.py import_companies liste.csv --campaign "Enquête 2026" --mode add
    python manage.py import_companies liste.csv --campaign "Enquête 2026" --mode replace --dry-run
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from companies import importing
from companies.models import Campaign, ImportBatch, ImportMode


class ProgressBar:
    """A text progress bar on stderr (only for large files: small ones finish at once)."""

    def __init__(self, stream, label: str, width: int = 30):
        self.stream, self.label, self.width = stream, label, width
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.last:
            return
        self.last = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label:<14} [{bar}] {percent:3d} %", ending="")
        if percent >= 100:
            self.stream.write("")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Importe une liste d'entreprises (CSV) : nouvelle campagne, ajout à une campagne ou "
        "remplacement de sa liste. Même lecture et même rapport que la page d'import."
    )
    progress_min_bytes = 1024 * 1024  # files from this size on show a progress bar

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier CSV à importer.")
        parser.add_argument(
            "--campaign",
            help="Nom de la campagne : la nouvelle (mode new, par défaut le nom du fichier et "
            "la date) ou celle à compléter / remplacer (modes add et replace).",
        )
        parser.add_argument(
            "--mode",
            choices=[mode.value for mode in ImportMode],
            default=ImportMode.NEW.value,
            help="new : nouvelle campagne (défaut) ; add : ajouter à une campagne ; "
            "replace : remplacer la liste d'une campagne.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Afficher le rapport sans rien enregistrer."
        )
        parser.add_argument(
            "--user", help="Identifiant de l'auteur de l'import (défaut : le premier admin)."
        )
        parser.add_argument("--encoding", choices=list(importing.ENCODING_LABELS))
        parser.add_argument("--delimiter", choices=[";", ",", "tab"])
        header = parser.add_mutually_exclusive_group()
        header.add_argument("--header", dest="has_header", action="store_true", default=None)
        header.add_argument("--no-header", dest="has_header", action="store_false")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"Fichier introuvable ou illisible : {path} ({exc}).") from exc
        try:
            importing.check_size(size)
            handle = path.open("rb")
        except importing.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Fichier illisible : {path} ({exc}).") from exc
        with handle:
            self.import_file(handle, path, size, options)

    def import_file(self, handle, path: Path, size: int, options) -> None:
        mode = options["mode"]
        show_progress = size >= self.progress_min_bytes
        campaign, campaign_name = self.campaign(mode, options["campaign"], path.name)
        delimiter = {"tab": "\t"}.get(options["delimiter"], options["delimiter"])
        try:
            report = importing.analyse(
                handle,
                mode=mode,
                campaign=campaign,
                encoding=options["encoding"],
                delimiter=delimiter,
                has_header=options["has_header"],
                progress=ProgressBar(self.stderr, "Analyse") if show_progress else None,
            )
        except importing.ImportFileError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(importing.format_report(report, applied=False, filename=path.name))
        if options["dry_run"]:
            self.stdout.write(
                self.style.WARNING("Simulation (--dry-run) : rien n'a été enregistré.")
            )
            return
        if report.accepted == 0:
            raise CommandError("Aucune ligne valide dans ce fichier : rien n'a été enregistré.")

        batch = ImportBatch(
            original_name=path.name[:255],
            uploaded_by=self.user(options["user"]),
            mode=mode,
            campaign=campaign,
            campaign_name=campaign_name,
        )
        report.store_on(batch)
        batch.file.save(path.name[-60:], File(handle), save=False)
        batch.save()
        try:
            applied = importing.apply_batch(
                batch,
                progress=ProgressBar(self.stderr, "Enregistrement") if show_progress else None,
            )
        except (importing.ImportFileError, importing.ImportApplyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        self.stdout.write("Résultat :")
        for label, value in importing.count_lines(applied, applied=True):
            self.stdout.write(f"{label} : {value}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Import n° {batch.pk} enregistré dans la campagne « {batch.campaign} »."
            )
        )

    def campaign(self, mode: str, name: str | None, filename: str):
        if mode == ImportMode.NEW:
            name = (name or importing.default_campaign_name(filename)).strip()
            if Campaign.objects.filter(name=name).exists():
                raise CommandError(
                    f"Une campagne « {name} » existe déjà : choisissez un autre nom avec "
                    "--campaign, ou --mode add / replace."
                )
            return None, name
        if not name:
            raise CommandError(f"--campaign est obligatoire avec --mode {mode}.")
        try:
            return Campaign.objects.get(name=name), ""
        except Campaign.DoesNotExist:
            raise CommandError(f"Aucune campagne ne s'appelle « {name} ».") from None

    def user(self, username: str | None):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"Aucun utilisateur « {username} ».") from None
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError(
                "Aucun administrateur : indiquez l'auteur de l'import avec --user IDENTIFIANT."
            )
        return user
