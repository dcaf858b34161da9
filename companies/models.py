from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


class Status(models.TextChoices):
    PENDING = "pending", _("À appeler")
    IN_PROGRESS = "in_progress", _("En cours")
    CALLBACK = "callback", _("Rappel")
    DONE = "done", _("Terminé")


CLAIMABLE_STATUSES = [Status.PENDING, Status.CALLBACK]


def is_null(field: str) -> models.ExpressionWrapper:
    return models.ExpressionWrapper(Q(**{f"{field}__isnull": True}), models.BooleanField())


# Orders that an index serves as they are (a million companies: a millisecond instead of a
# second's sort), each written both in the query and in its index below. "NULLS LAST" is spelt
# as an IS NULL key because SQLite cannot index NULLS LAST, and the expressions hold no
# parameter (no Coalesce with a sentinel value) because SQLite only uses an index on an
# expression written exactly as in the index, and a bound parameter is not.
#
# The queue (calls/locks.py queue_steps) serves lapsed leases by expiry, then callbacks by time
# (one without a time first: due since it was set), then pending companies by highest score,
# companies without a score last, then fewest attempts.
LAPSED_LEASE_ORDER = [models.F("lock_expires_at").asc(), models.F("id").asc()]
CALLBACK_ORDER = [
    is_null("callback_at").desc(),
    models.F("callback_at").asc(),
    models.F("id").asc(),
]
PENDING_ORDER = [
    is_null("validity_score").asc(),
    models.F("validity_score").desc(),
    models.F("attempts").asc(),
    models.F("id").asc(),
]
# The call list: callbacks by their time, so due ones come first, then companies by score
# (none last), fewest attempts, name.
CALL_LIST_ORDER = [
    is_null("callback_at").asc(),
    models.F("callback_at").asc(),
    is_null("validity_score").asc(),
    models.F("validity_score").desc(),
    models.F("attempts").asc(),
    models.F("name").asc(),
    models.F("id").asc(),
]


class Disposition(models.TextChoices):
    """AAPOR final disposition codes for telephone surveys (DESIGN.md section 6)."""

    COMPLETE = "1.1", _("1.1 Entretien complet")
    PARTIAL = "1.2", _("1.2 Entretien partiel")
    REFUSAL = "2.11", _("2.11 Refus")
    RESPONDENT_UNAVAILABLE = "2.21", _("2.21 Non-contact, répondant indisponible (rappel)")
    NO_ANSWER = "3.13", _("3.13 Pas de réponse")
    ANSWERING_MACHINE = "3.14", _("3.14 Répondeur")
    NON_WORKING = "4.30", _("4.30 Numéro non valide")
    NOT_ELIGIBLE = "4.70", _("4.70 Non éligible (pas transformateur)")


# The AAPOR class each code counts in for the rates: I, P, R, NC, O, UH, UO, NE.
DISPOSITION_CLASS = {
    Disposition.COMPLETE: "I",
    Disposition.PARTIAL: "P",
    Disposition.REFUSAL: "R",
    Disposition.RESPONDENT_UNAVAILABLE: "NC",
    Disposition.NO_ANSWER: "UH",
    Disposition.ANSWERING_MACHINE: "UH",
    Disposition.NON_WORKING: "NE",
    Disposition.NOT_ELIGIBLE: "NE",
}


class CompanyQuerySet(models.QuerySet):
    def in_queue(self):
        """Companies an operator may still be given: not archived, in an active campaign."""
        return self.filter(is_archived=False, campaign__is_active=True)

    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(next_call_at__isnull=True) | Q(next_call_at__lte=now))

    def lock_expired(self, now=None):
        now = now or timezone.now()
        return self.filter(status=Status.IN_PROGRESS, lock_expires_at__lt=now)

    def claimable(self, now=None, user=None):
        """Rows a claim may take: due and not locked, or locked with an expired lease."""
        now = now or timezone.now()
        return self.filter(claimable_condition(now, user))

    def held_by(self, user):
        return self.filter(status=Status.IN_PROGRESS, locked_by=user)


def claimable_condition(now, user=None) -> Q:
    """The row-level claim condition, on the company's own columns only, so that it can sit in
    the WHERE of one conditional UPDATE and be re-checked by the database on a concurrent write.

    Claimable: pending or callback and due, or in progress with an expired lease. With a user:
    also the company that user already holds (a renewal), and a personal callback of another
    operator only once it is overdue by CALLBACK_GRACE.
    """
    due = Q(next_call_at__isnull=True) | Q(next_call_at__lte=now)
    free = (Q(status__in=CLAIMABLE_STATUSES) & due) | Q(
        status=Status.IN_PROGRESS, lock_expires_at__lt=now
    )
    if user is None:
        return Q(is_archived=False) & free
    someone_elses_callback = (
        Q(status=Status.CALLBACK, callback_operator__isnull=False)
        & ~Q(callback_operator=user)
        & Q(callback_at__gt=now - settings.CALLBACK_GRACE)
    )
    return Q(is_archived=False) & (
        (free & ~someone_elses_callback) | Q(status=Status.IN_PROGRESS, locked_by=user)
    )


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
        """Give the company back to the queue. With a user, only if that user holds it; with a
        token, only if that page holds the lease.

        One conditional UPDATE; returns whether a lock was released.
        """
        rows = Company.objects.filter(pk=self.pk, status=Status.IN_PROGRESS)
        if user is not None:
            rows = rows.filter(locked_by=user)
        if token:
            rows = rows.filter(lock_token=token)
        released = rows.update(**release_values()) == 1
        if released:
            self.refresh_from_db()
        return released

    def reopen(self) -> bool:
        """Put a finished company back in the queue (supervisors only, never silently)."""
        reopened = (
            Company.objects.filter(pk=self.pk, status=Status.DONE).update(
                status=Status.PENDING,
                next_call_at=None,
                callback_at=None,
                callback_operator=None,
                updated_at=timezone.now(),
            )
            == 1
        )
        if reopened:
            self.refresh_from_db()
        return reopened


def unlocked_values() -> dict:
    """UPDATE values that clear a company's lock."""
    return {
        "status_before_claim": "",
        "locked_by": None,
        "locked_at": None,
        "lock_expires_at": None,
        "lock_token": "",
        "updated_at": timezone.now(),
    }


def release_values() -> dict:
    """UPDATE values that give an in-progress company back the status it had when claimed."""
    return {
        **unlocked_values(),
        "status": models.Case(
            models.When(status_before_claim=Status.CALLBACK, then=models.Value(Status.CALLBACK)),
            default=models.Value(Status.PENDING),
        ),
    }


class ImportMode(models.TextChoices):
    NEW = "new", _("Nouvelle campagne")
    ADD = "add", _("Ajouter à une campagne")
    REPLACE = "replace", _("Remplacer la liste d'une campagne")


class ImportJob(models.TextChoices):
    """Work on an import that runs outside the request (companies/importing/jobs.py)."""

    ANALYSE = "analyse", _("analyse du fichier")
    APPLY = "apply", _("enregistrement")


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
    # The first rejected lines, for the page; `rejects` lists them all, as the CSV downloaded.
    errors = models.JSONField(_("lignes rejetées"), default=list, blank=True)
    rejects = models.FileField(
        _("liste des lignes rejetées"), upload_to="imports/%Y/%m/", blank=True
    )
    warnings = models.JSONField(_("avertissements"), default=list, blank=True)
    sample = models.JSONField(_("premières lignes"), default=list, blank=True)
    # NIU keys and phones that several rows of the file hold (companies/importing/dedup.py).
    repeated_keys = models.JSONField(_("clés répétées"), null=True, blank=True)
    created_at = models.DateTimeField(_("téléversé le"), auto_now_add=True)
    applied_at = models.DateTimeField(_("appliqué le"), null=True, blank=True)
    # The analysis or apply running outside the request, if any: whoever holds job_token does
    # the work and reports here, so any server shows its progress.
    job = models.CharField(_("traitement en cours"), max_length=10, choices=ImportJob, blank=True)
    job_token = models.CharField(_("jeton du traitement"), max_length=32, blank=True)
    job_options = models.JSONField(_("réglages de lecture demandés"), default=dict, blank=True)
    job_started_at = models.DateTimeField(_("traitement commencé le"), null=True, blank=True)
    job_heartbeat_at = models.DateTimeField(_("dernier signe du traitement"), null=True, blank=True)
    job_progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    job_error = models.TextField(_("échec du dernier traitement"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.get_mode_display()})"
