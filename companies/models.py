from collections import defaultdict
from collections.abc import Iterable
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
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            self.merge_numbers([])

    def merge_numbers(self, numbers: Iterable[tuple[str, str]]) -> int:
        """Add (number as typed, PhoneLabel) pairs to the company's numbers, after its main
        number (Company.phone, added first if missing). See merge_numbers()."""
        return merge_numbers(
            [(self.pk, self.phone, PhoneLabel.STANDARD), *((self.pk, n, lbl) for n, lbl in numbers)]
        )

    def numbers(self) -> models.QuerySet:
        """Every number of the company, main number first. Companies written in bulk (an import)
        get their main number in the list here, the first time a call form needs it."""
        self.merge_numbers([])
        return self.phones.all()

    @property
    def is_locked(self) -> bool:
        return (
            self.status == Status.IN_PROGRESS
            and self.lock_expires_at is not None
            and self.lock_expires_at >= timezone.now()
        )

    def is_locked_by_other(self, user) -> bool:
        return self.is_locked and self.locked_by_id != user.pk

    def get_current_status_display(self) -> str:
        """The label of the status as the queue sees it (rows read with_current_status())."""
        return Status(self.current_status).label

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


# --- Several numbers, contact persons, pinned notes -------------------------------------------


class PhoneLabel(models.TextChoices):
    STANDARD = "standard", _("Standard")
    MOBILE = "mobile", _("Mobile")
    DIRECT = "direct", _("Ligne directe")
    OTHER = "other", _("Autre")


MAX_NUMBERS = 20  # per company: enough for every real list, a bound for hostile input


def merge_numbers(numbers: Iterable[tuple[int, str, str]]) -> int:
    """Add numbers to companies' lists: (company id, number as typed, PhoneLabel) triples.

    Each number is normalised (PHONE_REGION); one the company already has (same E.164 form,
    or the same text when it is not recognised) is skipped, blanks too; new ones go after the
    company's others, in the order given, up to MAX_NUMBERS. Many companies at once (an
    import) cost one read and one insert per thousand companies. Returns how many were added.
    """
    wanted: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for company_id, raw, label in numbers:
        raw = (raw or "").strip()[:100]
        if raw:
            wanted[company_id].append((raw, normalise_phone(raw), label))
    added = 0
    ids = list(wanted)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        known: dict[int, set] = defaultdict(set)
        count: dict[int, int] = defaultdict(int)
        next_position: dict[int, int] = defaultdict(int)
        existing = CompanyPhone.objects.filter(company_id__in=chunk)
        for company_id, raw, e164, position in existing.values_list(
            "company_id", "number", "e164", "position"
        ):
            known[company_id].add(e164 or ("raw", raw))
            count[company_id] += 1
            next_position[company_id] = max(next_position[company_id], position + 1)
        rows = []
        for company_id in chunk:
            for raw, e164, label in wanted[company_id]:
                key = e164 or ("raw", raw)
                if key in known[company_id] or count[company_id] >= MAX_NUMBERS:
                    continue
                known[company_id].add(key)
                count[company_id] += 1
                rows.append(
                    CompanyPhone(
                        company_id=company_id,
                        position=next_position[company_id],
                        label=label,
                        number=raw,
                        e164=e164,
                    )
                )
                next_position[company_id] += 1
        # A number added at the same moment by someone else is skipped (unique constraints).
        CompanyPhone.objects.bulk_create(rows, ignore_conflicts=True)
        added += len(rows)
    return added


class CompanyPhoneQuerySet(models.QuerySet):
    def live(self):
        return self.filter(is_dead=False)

    def dialable(self) -> list:
        """The numbers a call may use: the live ones, or all of them once none is (a company
        a supervisor reopened after every number was found dead). One query."""
        numbers = list(self)
        return [number for number in numbers if not number.is_dead] or numbers


class CompanyPhone(models.Model):
    """One of a company's numbers. Its outcome history is the calls that used it
    (CallRecord.phone); the last of them is kept here, and a call that found the number
    non-working (AAPOR 4.30: invalid, or a wrong party) marks it dead."""

    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="phones"
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    label = models.CharField(
        _("type"), max_length=20, choices=PhoneLabel.choices, default=PhoneLabel.STANDARD
    )
    number = models.CharField(_("numéro"), max_length=100)  # as typed or imported
    e164 = models.CharField(_("numéro normalisé"), max_length=20, blank=True)
    is_dead = models.BooleanField(_("hors service"), default=False)
    last_disposition = models.CharField(
        _("dernier résultat"), max_length=5, choices=Disposition.choices, blank=True
    )
    last_called_at = models.DateTimeField(_("dernier appel"), null=True, blank=True)
    created_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    objects = CompanyPhoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("numéro")
        verbose_name_plural = _("numéros")
        ordering = ["company", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "e164"], condition=~Q(e164=""), name="phone_unique_e164"
            ),
            models.UniqueConstraint(
                fields=["company", "number"], condition=Q(e164=""), name="phone_unique_raw"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_label_display()} · {self.number}"

    def record_call(self, disposition: str, when) -> None:
        """A submitted call used this number: its outcome becomes the number's last one, and
        the number is dead exactly when that outcome says it does not reach the company."""
        self.last_disposition = disposition
        self.last_called_at = when
        self.is_dead = disposition == Disposition.NON_WORKING
        self.save(update_fields=["last_disposition", "last_called_at", "is_dead"])


MAX_PEOPLE = 50  # per company


class ContactPerson(models.Model):
    """Someone to ask for at the company. A direct line is also one of the company's numbers
    (label « Ligne directe »), so a call can say it used it."""

    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="people"
    )
    name = models.CharField(_("nom"), max_length=200)
    role = models.CharField(_("fonction"), max_length=200, blank=True)
    phone = models.CharField(_("ligne directe"), max_length=100, blank=True)
    phone_e164 = models.CharField(_("ligne directe normalisée"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    created_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("personne à contacter")
        verbose_name_plural = _("personnes à contacter")
        ordering = ["company", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name

    def save(self, *args, **kwargs):
        self.phone_e164 = normalise_phone(self.phone)
        super().save(*args, **kwargs)
        if self.phone:
            self.company.merge_numbers([(self.phone, PhoneLabel.DIRECT)])


class PinnedNoteQuerySet(models.QuerySet):
    def pinned(self):
        return self.filter(unpinned_at__isnull=True)


class PinnedNote(models.Model):
    """A note a supervisor pinned on a company: every call form of the company shows it. An
    unpinned note is kept, with who unpinned it and when."""

    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="notes"
    )
    text = models.TextField(_("note"), max_length=2000)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("épinglée par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    pinned_at = models.DateTimeField(_("épinglée le"), auto_now_add=True)
    unpinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("détachée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unpinned_at = models.DateTimeField(_("détachée le"), null=True, blank=True)

    objects = PinnedNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("note épinglée")
        verbose_name_plural = _("notes épinglées")
        ordering = ["-pinned_at", "-id"]
        indexes = [models.Index(fields=["company", "unpinned_at"], name="note_company_idx")]

    def __str__(self) -> str:
        return self.text[:60]


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
