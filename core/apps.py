from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares; imports no other app of the project (docs/ARCHITECTURE.md)."""

    name = "core"
    verbose_name = "Naumur"

    def ready(self):
        from auditlog.signals import pre_log
        from django.contrib.auth.signals import user_logged_in

        from core.audit import skip_drafts
        from core.language import remember_at_login

        pre_log.connect(skip_drafts, dispatch_uid="naumur_audit_skip_drafts")
        user_logged_in.connect(remember_at_login, dispatch_uid="naumur_language_at_login")
