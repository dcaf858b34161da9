"""python manage.py backup DEST: one timestamped archive with the database and the media files."""

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Sauvegarde la base de données (SQLite ou PostgreSQL) et les fichiers (enregistrements, "
        "imports) dans une archive horodatée naumur-backup-AAAAMMJJ-HHMMSS.tar.gz du dossier DEST."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", metavar="DEST", help="Dossier où écrire l'archive.")
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="Base de données seule (fichiers sauvegardés par ailleurs, ex. stockage S3).",
        )

    def handle(self, *args, destination, no_media, **options):
        say = self.stdout.write if options["verbosity"] > 0 else (lambda message: None)
        try:
            archive = create_backup(destination, include_media=not no_media, say=say)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {archive}"))
        return None
