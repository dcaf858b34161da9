from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Personal data: a company's erasure, subject access, recording retention (above calls and
    quality: it finds personal data wherever the other apps keep it)."""

    name = "privacy"
    verbose_name = _("Données personnelles")
