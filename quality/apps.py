from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Quality control of the calls: review queue, scorecards, corrections (above calls)."""

    name = "quality"
    verbose_name = _("Contrôle qualité")

    def ready(self):
        from django.db.models.signals import post_save

        from calls.models import CallRecord
        from quality.sampling import select_on_save

        # Selection for review happens when a call is submitted, in the same transaction
        # (CallRecord.submit() saves inside its atomic block): see quality/sampling.py.
        post_save.connect(select_on_save, sender=CallRecord, dispatch_uid="quality_select")
