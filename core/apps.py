from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares; imports no other app of the project (docs/ARCHITECTURE.md)."""

    name = "core"
    verbose_name = "Naumur"

    def ready(self):
        from auditlog.signals import pre_log

        from core.audit import skip_drafts

        pre_log.connect(skip_drafts, dispatch_uid="naumur_audit_skip_drafts")
