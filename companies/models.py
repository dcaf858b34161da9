from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.aapor import Disposition
from companies.lifecycle import (
    CALL_LIST_ORDER,
    CALLBACK_ORDER,
    LAPSED_LEASE_ORDER,
    PENDING_ORDER,
    CompanyQuerySet,
    Status,
)


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of a phone number as people type it, or "" when invalid."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    region = region or settings.PHONE_REGION
    candidates = [raw]
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.startswith("00"):
        candidates.append("+" + digits[2:])
    elif digits and not raw.startswith("+"):
        candidates.append("+" + digits)  # "237-6..." written without the plus sign
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


class Campaign(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("tentatives maximum"),
        default=3,
        help_text=_("Après ce nombre d'appels sans réponse, l'entreprise est terminée."),
    )
    retry_delay = models.DurationField(
        _("délai avant nouvel essai"),
        default=timedelta(hours=2),
        help_text=_("Attente après « Pas de réponse » ou « Répondeur » (HH:MM:SS)."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="campaign_max_attempts_min_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Company(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campagne"), on_delete=models.PROTECT, related_name="companies"
    )
    name = models.CharField(_("entreprise"), max_length=255)
    phone = models.CharField(_("téléphone"), max_length=100)
    phone_e164 = models.CharField(_("téléphone normalisé"), max_length=20, blank=True)
    product = models.CharField(_("produit"), max_length=255, blank=True)
    activity = models.CharField(_("activité"), max_length=255, blank=True)
    location = models.CharField(_("localisation"), max_length=255, blank=True)
    legal_form = models.CharField(_("forme juridique"), max_length=100, blank=True)
    niu = models.CharField(_("NIU"), max_length=100, blank=True)
    validity_score = models.DecimalField(
        _("score"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    # The status to go back to when an in-progress claim is released or expires.
    status_before_claim = models.CharField(
        _("statut avant l'appel"), max_length=20, choices=Status.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_call_at = models.DateTimeField(_("à rappeler à partir de"), null=True, blank=True)
    callback_at = models.DateTimeField(_("rappel prévu"), null=True, blank=True)
    callback_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rappel personnel de"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="personal_callbacks",
    )
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verrouillée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="locked_companies",
    )
    locked_at = models.DateTimeField(_("verrouillée depuis"), null=True, blank=True)
    lock_expires_at = models.DateTimeField(_("verrou expire à"), null=True, blank=True)
    # Which open call page holds the lease: a page's closing beacon releases only its own
    # lease, never the one a reload of the same page has just taken back.
    lock_token = models.CharField(_("page qui tient le verrou"), max_length=32, blank=True)
    disposition = models.CharField(
        _("code AAPOR"), max_length=5, choices=Disposition.choices, blank=True
    )
    last_called_at = models.DateTimeField(_("dernier appel"), null=True, blank=True)
    is_archived = models.BooleanField(_("archivée"), default=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        ordering = ["name", "id"]
        permissions = [
            ("release_company", _("Peut libérer le verrou d'une entreprise")),
            ("reopen_company", _("Peut rouvrir une entreprise terminée")),
        ]
        indexes = [
            # The queue: due callbacks, then pending by score and attempts.
            models.Index(
                fields=["campaign", "status", "next_call_at"],
                name="company_queue_idx",
                condition=Q(is_archived=False),
            ),
            models.Index(
                *CALLBACK_ORDER, name="company_callback_idx", condition=Q(status="callback")
            ),
            models.Index(
                *PENDING_ORDER,
                name="company_pending_order_idx",
                condition=Q(status="pending", is_archived=False),
            ),
            models.Index(
                *LAPSED_LEASE_ORDER, name="company_lock_idx", condition=Q(status="in_progress")
            ),
            # Tables and filters.
            models.Index(
                *CALL_LIST_ORDER, name="company_call_list_idx", condition=Q(is_archived=False)
            ),
            models.Index(fields=["campaign", "location"], name="company_location_idx"),
            models.Index(fields=["campaign", "activity"], name="company_activity_idx"),
            models.Index(fields=["disposition"], name="company_disposition_idx"),
            # The dashboard's grouped count reads only this index (covering, in group order).
            models.Index(
                fields=[
                    "campaign",
                    "is_archived",
                    "status",
                    # What a lapsed lease goes back to (lifecycle.current_status).
                    "status_before_claim",
                    "disposition",
                    "next_call_at",
                    "lock_expires_at",
                    # Last, so PostgreSQL also joins calls to one campaign's companies from
                    # this index alone (INCLUDE would do, but SQLite warns about it).
                    "id",
                ],
                name="company_dashboard_idx",
            ),
            # Import deduplication.
            models.Index(fields=["campaign", "niu"], name="company_dedup_niu_idx"),
            models.Index(fields=["campaign", "phone_e164"], name="company_dedup_phone_idx"),
        ]
        constraints = [
            # One company at a time per operator, enforced by the database.
            models.UniqueConstraint(
                fields=["locked_by"],
                condition=Q(locked_by__isnull=False),
                name="company_one_lock_per_operator",
            ),
            models.CheckConstraint(
                condition=~Q(status="in_progress") | Q(lock_expires_at__isnull=False),
                name="company_in_progress_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.phone and not self.phone_e164:
            self.phone_e164 = normalise_phone(self.phone)
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        return (
            self.status == Status.IN_PROGRESS
            and self.lock_expires_at is not None
            and self.lock_expires_at >= timezone.now()
        )

    def is_locked_by_other(self, user) -> bool:
        return self.is_locked and self.locked_by_id != user.pk

    @property
    def is_due_callback(self) -> bool:
        return (
            self.status == Status.CALLBACK
            and self.callback_at is not None
            and self.callback_at <= timezone.now()
        )

    def release(self, user=None, token: str = "") -> bool:
        """Give the company back to the queue (see CompanyQuerySet.release)."""
        released = Company.objects.release(self, user, token)
        if released:
            self.refresh_from_db()
        return released

    def reopen(self) -> bool:
        """Put a finished company back in the queue (supervisors only, never silently)."""
        reopened = Company.objects.reopen(self)
        if reopened:
            self.refresh_from_db()
        return reopened


class ImportMode(models.TextChoices):
    NEW = "new", _("Nouvelle campagne")
    ADD = "add", _("Ajouter à une campagne")
    REPLACE = "replace", _("Remplacer la liste d'une campagne")


class ImportBatch(models.Model):
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campagne"),
        on_delete=models.PROTECT,
        related_name="imports",
        null=True,
        blank=True,
    )
    file = models.FileField(_("fichier"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("nom du fichier"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("importé par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField(
        _("mode"), max_length=10, choices=ImportMode.choices, default=ImportMode.NEW
    )
    campaign_name = models.CharField(_("nom de la nouvelle campagne"), max_length=200, blank=True)
    encoding = models.CharField(_("encodage"), max_length=40, blank=True)
    delimiter = models.CharField(_("séparateur"), max_length=5, blank=True)
    has_header = models.BooleanField(_("ligne d'en-tête"), default=True)
    column_mapping = models.JSONField(_("correspondance des colonnes"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_created = models.PositiveIntegerField(_("créées"), default=0)
    rows_updated = models.PositiveIntegerField(_("mises à jour"), default=0)
    rows_archived = models.PositiveIntegerField(_("archivées"), default=0)
    rows_deleted = models.PositiveIntegerField(_("supprimées"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejetées"), default=0)
    errors = models.JSONField(_("lignes rejetées"), default=list, blank=True)
    warnings = models.JSONField(_("avertissements"), default=list, blank=True)
    created_at = models.DateTimeField(_("téléversé le"), auto_now_add=True)
    applied_at = models.DateTimeField(_("appliqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.get_mode_display()})"
