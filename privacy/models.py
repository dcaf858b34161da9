"""Stored files waiting to be deleted (privacy/purge.py).

A purge or an erasure deletes audio and rewritten import files only once its transaction has
committed, so a rollback never loses a file the database still points at. The names are written
here in that same transaction and removed once the storage has deleted them: a storage that
fails (S3 unreachable) leaves them here, and the next `purge_recordings --apply` tries again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingFileDeletion(models.Model):
    name = models.CharField(_("fichier"), max_length=255)
    created_at = models.DateTimeField(_("prévu le"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("essais"), default=0)
    last_error = models.CharField(_("dernière erreur"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("fichier à supprimer")
        verbose_name_plural = _("fichiers à supprimer")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
