"""manage.py select_for_review [--day YYYY-MM-DD] [--days N]

The daily pass of the review queue (quality/sampling.py): every rule on each operator's whole
day, and the random picks topped up to at least one per operator and working day. Run it once a
day after work (cron), for the day before by default; running it again adds nothing new.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from quality.sampling import select_day


class Command(BaseCommand):
    help = "Complète la file de contrôle qualité pour un jour (hier par défaut)."

    def add_arguments(self, parser):
        parser.add_argument("--day", help="Jour à traiter, AAAA-MM-JJ (défaut : hier).")
        parser.add_argument(
            "--days", type=int, default=1, help="Nombre de jours jusqu'à ce jour inclus."
        )

    def handle(self, *args, day=None, days=1, **options):
        if day:
            try:
                last = date.fromisoformat(day)
            except ValueError:
                raise CommandError(f"Jour invalide : {day!r} (attendu AAAA-MM-JJ).") from None
        else:
            last = timezone.localdate() - timedelta(days=1)
        if days < 1:
            raise CommandError("--days doit valoir au moins 1.")
        for offset in range(days - 1, -1, -1):
            current = last - timedelta(days=offset)
            added = select_day(current)
            self.stdout.write(f"{current.isoformat()} : {added} motif(s) de contrôle ajouté(s).")
