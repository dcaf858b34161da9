"""Delete the audio of recordings past their retention period; the rows stay (privacy/purge.py).

Dry run by default: a report of what would go. --apply deletes, and retries the files an earlier
purge or erasure could not delete (storage unreachable)."""

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from privacy.models import PendingFileDeletion
from privacy.purge import apply_retention, retention_plans, retry_pending_deletions


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= 36500:
        raise CommandError(_("--older-than : un nombre de jours entre 1 et 36500."))
    return days


class Command(BaseCommand):
    help = _(
        "Supprime le son des enregistrements plus anciens que la durée de conservation de leur "
        "campagne, ou que --older-than pour une campagne sans durée ; la fiche de chaque "
        "enregistrement (date, durée) reste, marquée « purgé ». Sans --apply : un essai."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=positive_days,
            metavar="JOURS",
            help=_("Durée de conservation des campagnes qui n'ont pas la leur (en jours)."),
        )
        parser.add_argument(
            "--apply", action="store_true", help=_("Supprime vraiment (sinon : un essai).")
        )

    def handle(self, *args, older_than=None, apply=False, **options):
        now = timezone.now()
        plans = retention_plans(older_than, now)
        self.stdout.write(
            _("Purge des enregistrements — suppression")
            if apply
            else _("Purge des enregistrements — essai : rien n'est supprimé (--apply supprime)")
        )
        total, size = 0, 0
        for plan in plans:
            line = _("Campagne « %(name)s » : conservation %(source)s") % {
                "name": plan.campaign.name,
                "source": plan.source,
            }
            if plan.days is not None:
                line += " — " + _("%(count)s enregistrement(s) d'avant le %(cutoff)s, %(size)s") % {
                    "count": plan.count,
                    "cutoff": date_format(timezone.localtime(plan.cutoff), "SHORT_DATETIME_FORMAT"),
                    "size": filesizeformat(plan.bytes),
                }
                if plan.oldest:
                    line += " " + _("(le plus ancien : %(when)s)") % {
                        "when": date_format(timezone.localtime(plan.oldest), "SHORT_DATE_FORMAT")
                    }
            self.stdout.write(line)
            total += plan.count
            size += plan.bytes
        pending = PendingFileDeletion.objects.count()
        if not apply:
            self.stdout.write(
                _("Total : %(count)s enregistrement(s), %(size)s.")
                % {"count": total, "size": filesizeformat(size)}
            )
            if pending:
                self.stdout.write(
                    _("%(count)s fichier(s) d'une purge précédente restent à supprimer.")
                    % {"count": pending}
                )
            return
        purged = files = 0
        for plan in plans:
            if plan.count:
                done = apply_retention(plan, now)
                purged += done.recordings
                files += done.files
        deleted, failed = retry_pending_deletions()
        self.stdout.write(
            _("Purgés : %(count)s enregistrement(s), %(size)s ; fichiers supprimés : %(files)s.")
            % {"count": purged, "size": filesizeformat(size), "files": files}
        )
        if pending or failed:
            self.stdout.write(
                _("Fichiers en attente repris : %(deleted)s supprimé(s), %(failed)s en échec.")
                % {"deleted": deleted, "failed": failed}
            )
        if failed:
            raise CommandError(
                _(
                    "Le stockage a refusé %(failed)s suppression(s) : relancez la commande une "
                    "fois le stockage joignable."
                )
                % {"failed": failed}
            )
