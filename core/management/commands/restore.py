"""python manage.py restore ARCHIVE: put back the database and media files of a backup."""

import sys

from django.core.management.base import BaseCommand, CommandError

from core.backups import ENGINE_NAMES, BackupError, read_archive, restore_backup


class Command(BaseCommand):
    help = (
        "Restaure une archive de « manage.py backup » : remplace toute la base de données "
        "configurée, puis réécrit les fichiers. Arrêtez l'application avant."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE", help="Archive naumur-backup-….tar.gz")
        parser.add_argument("--yes", action="store_true", help="Ne pas demander de confirmation.")

    def handle(self, *args, archive, yes, **options):
        say = self.stdout.write if options["verbosity"] > 0 else (lambda message: None)
        try:
            backup = read_archive(archive)
            manifest = backup.manifest
            say(
                f"Sauvegarde du {manifest['created_at']} ({ENGINE_NAMES[manifest['engine']]}, "
                f"{len(backup.media)} fichiers)."
            )
            if not yes:
                self.confirm()
            result = restore_backup(backup, say=say)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restauration terminée et vérifiée : {sum(result['counts'].values())} lignes, "
                f"{result['media']} fichiers."
            )
        )
        if result["pending"]:
            self.stdout.write(
                self.style.WARNING(
                    "Cette sauvegarde précède des migrations du code : lancez "
                    "« python manage.py migrate »."
                )
            )

    def confirm(self):
        if not sys.stdin.isatty():
            raise CommandError(
                "La restauration remplace toute la base de données : ajoutez --yes pour confirmer."
            )
        answer = input(
            "La base de données actuelle sera remplacée. Tapez « oui » pour continuer : "
        )
        if answer.strip().lower() != "oui":
            raise CommandError("Restauration annulée, rien n'a été modifié.")
