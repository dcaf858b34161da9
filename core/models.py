"""What the project keeps about a user beyond Django's User: the language they chose."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """One per user who chose something; a user without one follows the browser's language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("utilisateur"),
    )
    language = models.CharField(
        _("langue"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Vide : la langue du navigateur."),
    )

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profils")

    def __str__(self) -> str:
        return str(self.user)
