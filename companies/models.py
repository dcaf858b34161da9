from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from companies import fieldwork
from companies.aapor import Disposition
from companies.lifecycle import (
    CALL_LIST_ORDER,
    CALLBACK_ORDER,
    LAPSED_LEASE_ORDER,
    PENDING_ORDER,
    QUOTA_FIELDS,
    CompanyQuerySet,
    QueueState,
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


ZONE_CHOICES = [(zone, zone.replace("_", " ")) for zone in fieldwork.ZONES]


# What operators read to the respondent before starting the microphone, unless the campaign says
# otherwise (its page and the admin edit it). The source string is stored for campaigns created
# without a language (the migration, raw inserts); a new campaign gets it in the active language.
CONSENT_SENTENCE = gettext_noop(
    "Avant de commencer, je vous informe que cet appel est enregistré pour garantir la qualité "
    "de l'enquête ; l'enregistrement reste confidentiel. Acceptez-vous que cet appel soit "
    "enregistré ?"
)
CONSENT_SENTENCE_MAX_LENGTH = 1000


def default_consent_sentence() -> str:
    return gettext(CONSENT_SENTENCE)


def default_consent_sentences() -> set[str]:
    """The default sentence in every language of the site (the source string among them)."""
    sentences = {CONSENT_SENTENCE}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            sentences.add(gettext(CONSENT_SENTENCE))
    return sentences


class Campaign(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    consent_sentence = models.TextField(
        _("phrase de consentement"),
        max_length=CONSENT_SENTENCE_MAX_LENGTH,
        default=default_consent_sentence,
        db_default=CONSENT_SENTENCE,
        help_text=_(
            "Lue à l'interlocuteur avant de lancer le micro. S'il refuse, l'opérateur clique "
            "« Refus d'enregistrement » : l'audio de l'appel est effacé."
        ),
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
    # Read by `manage.py purge_recordings` (privacy/purge.py): set, it wins over the command's
    # --older-than; empty, the command's period applies.
    recording_retention_days = models.PositiveIntegerField(
        _("conservation des enregistrements (jours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text=_(
            "Au-delà, « purge_recordings » supprime le son des appels (la date et la durée "
            "restent). Vide : la durée donnée à la commande."
        ),
    )

    # When companies may be called, in each company's local time (companies/fieldwork.py).
    calling_hours = models.JSONField(
        _("heures d'appel"),
        default=fieldwork.default_hours,
        help_text=_("Par jour de la semaine (lundi d'abord), des plages [début, fin]."),
    )
    time_zone = models.CharField(
        _("fuseau horaire par défaut"),
        max_length=64,
        choices=ZONE_CHOICES,
        default=fieldwork.DEFAULT_ZONE,
        help_text=_("Pour les entreprises dont le numéro ne dit pas le fuseau."),
    )
    public_holidays = models.BooleanField(
        _("pas d'appel les jours fériés"),
        default=True,
        help_text=_("Jours fériés du pays de chaque entreprise (d'après son numéro)."),
    )
    closed_days = models.JSONField(_("jours de fermeture"), default=list, blank=True)

    # Retry rules, one per outcome. Max attempts count every call of the company.
    no_answer_delay = models.DurationField(
        _("délai après « Pas de réponse »"), default=timedelta(hours=2)
    )
    no_answer_max_attempts = models.PositiveSmallIntegerField(
        _("tentatives maximum après « Pas de réponse »"), default=3
    )
    voicemail_delay = models.DurationField(
        _("délai après « Répondeur »"), default=timedelta(hours=2)
    )
    voicemail_max_attempts = models.PositiveSmallIntegerField(
        _("tentatives maximum après « Répondeur »"), default=3
    )
    callback_delay = models.DurationField(_("délai d'un rappel sans heure"), default=timedelta(0))
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("tentatives maximum après un rappel sans heure"),
        null=True,
        blank=True,
        help_text=_("Vide : sans limite."),
    )
    spread_attempts = models.BooleanField(
        _("répartir les essais sans réponse sur la journée"),
        default=True,
        help_text=_(
            "Deux essais sans réponse ne tombent pas dans la même partie de la journée (matin, "
            "midi, après-midi) tant qu'une autre partie est ouverte."
        ),
    )
    refusal_conversion = models.BooleanField(
        _("conversion de refus"),
        default=False,
        help_text=_("Rappeler une fois, après quelques jours, une entreprise qui a refusé."),
    )
    refusal_conversion_days = models.PositiveSmallIntegerField(
        _("jours avant la conversion de refus"), default=14
    )

    # Quotas (QuotaCell).
    quota_counts_partials = models.BooleanField(
        _("les entretiens partiels comptent dans les quotas"),
        default=False,
        help_text=_("Sinon, seuls les entretiens complets (AAPOR 1.1) comptent."),
    )
    quota_others_callable = models.BooleanField(
        _("appeler aussi les entreprises hors quotas"),
        default=True,
        help_text=_("Entreprises qui n'entrent dans aucune cellule de quota."),
    )

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(no_answer_max_attempts__gte=1, voicemail_max_attempts__gte=1)
                & (Q(callback_max_attempts__isnull=True) | Q(callback_max_attempts__gte=1))
                & Q(refusal_conversion_days__gte=1),
                name="campaign_retry_rules_min_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def calendar(self) -> fieldwork.Calendar:
        return fieldwork.calendar_of(self, settings.PHONE_REGION)

    @property
    def consent_text(self) -> str:
        """The sentence the operator reads: the default one in the reader's language, whichever
        language it was stored in; a campaign's own words as they were typed."""
        if self.consent_sentence in default_consent_sentences():
            return default_consent_sentence()
        return self.consent_sentence

    def counted_dispositions(self) -> list[str]:
        """The AAPOR codes a quota counts: completes, and partials if the campaign says so."""
        if self.quota_counts_partials:
            return [Disposition.COMPLETE, Disposition.PARTIAL]
        return [Disposition.COMPLETE]


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
    # The fieldwork rules' own columns (companies/lifecycle.py, companies/fieldwork.py).
    time_zone = models.CharField(
        _("fuseau horaire"),
        max_length=64,
        choices=ZONE_CHOICES,
        blank=True,
        help_text=_("Vide : celui de la campagne."),
    )
    time_zone_chosen = models.BooleanField(_("fuseau choisi par un superviseur"), default=False)
    country = models.CharField(
        _("pays"), max_length=2, blank=True, help_text=_("Vide : celui de PHONE_REGION.")
    )
    appointment = models.BooleanField(
        _("rendez-vous"),
        default=False,
        help_text=_("Rappel à une heure convenue : honoré même hors des heures d'appel."),
    )
    parts_tried = models.CharField(
        _("parties de la journée essayées sans réponse"), max_length=3, blank=True
    )
    conversion_at = models.DateTimeField(
        _("conversion de refus programmée le"), null=True, blank=True
    )
    is_archived = models.BooleanField(_("archivée"), default=False)
    # Its personal data erased on request (privacy/erasure.py): done for good, name, numbers,
    # NIU, people and notes gone, calls kept without notes, recordings purged.
    erased_at = models.DateTimeField(_("données effacées le"), null=True, blank=True)
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
            ("erase_company", _("Peut effacer les données personnelles d'une entreprise")),
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
        adding = self._state.adding
        if not self.time_zone_chosen:
            self.time_zone, self.country = fieldwork.phone_zone(
                self.phone_e164, self.campaign.time_zone if self.campaign_id else ""
            )
        super().save(*args, **kwargs)
        if adding:
            self.merge_numbers([])

    def merge_numbers(self, numbers: Iterable[tuple[str, str]]) -> int:
        """Add (number as typed, PhoneLabel) pairs to the company's numbers, after its main
        number (Company.phone, added first if missing). See merge_numbers()."""
        return merge_numbers(
            [(self.pk, self.phone, PhoneLabel.STANDARD), *((self.pk, n, lbl) for n, lbl in numbers)]
        )

    @property
    def effective_time_zone(self) -> str:
        """The company's zone: its own (number or supervisor), else its campaign's."""
        return self.time_zone or self.campaign.time_zone

    def local_now(self):
        """The company's local wall-clock time now (naive, so that templates show it as it is),
        or None when it reads the same as the server's."""
        now = timezone.now()
        local = now.astimezone(ZoneInfo(self.effective_time_zone))
        if local.utcoffset() == timezone.localtime(now).utcoffset():
            return None
        return local.replace(tzinfo=None)

    @property
    def is_locked(self) -> bool:
        return (
            self.status == Status.IN_PROGRESS
            and self.lock_expires_at is not None
            and self.lock_expires_at >= timezone.now()
        )

    def is_locked_by_other(self, user) -> bool:
        return self.is_locked and self.locked_by_id != user.pk

    def get_queue_state_display(self) -> str:
        """Where it stands for the queue now (rows read with_queue_state())."""
        return QueueState(self.queue_state).label

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
    added = 0
    for rows in new_numbers(numbers):
        # A number added at the same moment by someone else is skipped (unique constraints).
        CompanyPhone.objects.bulk_create(rows, ignore_conflicts=True)
        added += len(rows)
    return added


def new_numbers(
    numbers: Iterable[tuple[int, str, str]], full: list[tuple[int, str]] | None = None
) -> Iterator[list["CompanyPhone"]]:
    """The CompanyPhone rows merge_numbers() would add, unsaved, a thousand companies at a time
    (each chunk read from the database when it is reached): what an import's preview asks
    without writing, and what merge_numbers() writes. The (company id, number) pairs left out
    because the company has MAX_NUMBERS already go on `full`, if given."""
    wanted: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for company_id, raw, label in numbers:
        raw = (raw or "").strip()[:100]
        if raw:
            wanted[company_id].append((raw, normalise_phone(raw), label))
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
                if key in known[company_id]:
                    continue
                if count[company_id] >= MAX_NUMBERS:
                    if full is not None:
                        full.append((company_id, raw))
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
        yield rows


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


class DoNotCallSource(models.TextChoices):
    CALL_FORM = "call_form", _("Formulaire d'appel")
    SUPERVISOR = "supervisor", _("Ajout par un superviseur")
    IMPORT = "import", _("Import d'une liste")
    ERASURE = "erasure", _("Effacement des données")


class DoNotCallQuerySet(models.QuerySet):
    def live(self):
        return self.filter(removed_at__isnull=True)

    def removed(self):
        return self.filter(removed_at__isnull=False)


class DoNotCallEntry(models.Model):
    """A number or NIU that must never be called again, in any campaign. Removing an entry
    keeps it (removed_at, by whom, why): the list's history."""

    phone_e164 = models.CharField(_("téléphone normalisé"), max_length=20, blank=True)
    niu = models.CharField(_("NIU"), max_length=100, blank=True)  # the key: no space, upper case
    company_name = models.CharField(_("entreprise"), max_length=255, blank=True)
    reason = models.CharField(_("motif"), max_length=255)
    source = models.CharField(_("origine"), max_length=20, choices=DoNotCallSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ajouté par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now)
    removed_at = models.DateTimeField(_("retiré le"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("retiré par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    removal_reason = models.CharField(_("motif du retrait"), max_length=255, blank=True)

    objects = DoNotCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée « Ne plus appeler »")
        verbose_name_plural = _("liste « Ne plus appeler »")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone_e164="") | ~Q(niu=""), name="do_not_call_phone_or_niu"
            ),
            # One live entry per number and per NIU; these indexes also serve the queue's check.
            models.UniqueConstraint(
                fields=["phone_e164"],
                condition=Q(removed_at__isnull=True) & ~Q(phone_e164=""),
                name="do_not_call_one_live_phone",
            ),
            models.UniqueConstraint(
                fields=["niu"],
                condition=Q(removed_at__isnull=True) & ~Q(niu=""),
                name="do_not_call_one_live_niu",
            ),
        ]

    def __str__(self) -> str:
        return " / ".join(part for part in [self.phone_e164, self.niu] if part)

    @property
    def is_live(self) -> bool:
        return self.removed_at is None


class QuotaCell(models.Model):
    """A quota: the companies whose field1 is value1 (and field2 is value2, when given) need
    `target` interviews. `completed` is kept by the life cycle at every submitted call (see
    lifecycle.record_outcome) and recounted when the cells or the companies' fields change."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campagne"), on_delete=models.CASCADE, related_name="quota_cells"
    )
    field1 = models.CharField(_("champ"), max_length=20, choices=QUOTA_FIELDS)
    value1 = models.CharField(_("valeur"), max_length=255)
    field2 = models.CharField(_("second champ"), max_length=20, choices=QUOTA_FIELDS, blank=True)
    value2 = models.CharField(_("seconde valeur"), max_length=255, blank=True)
    target = models.PositiveIntegerField(_("objectif"))
    completed = models.PositiveIntegerField(_("réalisés"), default=0)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("cellule de quota")
        verbose_name_plural = _("cellules de quota")
        ordering = ["field1", "value1", "field2", "value2", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "field1", "value1", "field2", "value2"],
                name="quota_cell_unique",
            ),
            models.CheckConstraint(
                condition=Q(field2="", value2="") | (~Q(field2="") & ~Q(field2=F("field1"))),
                name="quota_cell_second_field",
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.get_field1_display()} = {self.value1}"
        if self.field2:
            label += f" × {self.get_field2_display()} = {self.value2}"
        return label


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
