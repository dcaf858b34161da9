"""`manage.py rebuild_dashboard_figures`: count every operator's days again from the calls table
(calls/daily.py). The figures are kept up to date as calls are submitted; this puts them right
after calls were changed outside the application (a restore of part of the data, SQL by hand)."""

import time

from django.core.management.base import BaseCommand

from calls.daily import rebuild


class Command(BaseCommand):
    help = (
        "Recompte les chiffres par jour du tableau de bord à partir des appels validés "
        "(une transaction ; le tableau de bord reste utilisable pendant ce temps)."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        rows = rebuild()
        self.stdout.write(
            f"Chiffres du tableau de bord recomptés : {rows} lignes "
            f"en {time.perf_counter() - started:.1f} s."
        )
