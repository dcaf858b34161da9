import re

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calls import daily
from companies.aapor import Disposition
from companies.lifecycle import Outcome
from companies.models import Campaign, Company, CompanyPhone


class NumberStatus(models.TextChoices):
    INVALID = "invalid", _("Invalide")
    NO_ANSWER = "no_answer", _("Pas de réponse")
    VOICEMAIL = "voicemail", _("Répondeur")
    ANSWERED = "answered", _("Décroche")


class CallStatus(models.TextChoices):
    BAD_NUMBER = "bad_number", _("Mauvais numéro")
    NOT_TRANSFORMER = "not_transformer", _("Pas transformateur")
    CALLBACK = "callback", _("Rappel")
    REFUSED = "refused", _("Refus questionnaire")
    ACCEPTED = "accepted", _("Accepte questionnaire")


class Level(models.TextChoices):
    PARTIAL = "partial", _("Partiel")
    COMPLETE = "complete", _("Complet")


class Consent(models.TextChoices):
    """The respondent's answer to the campaign's consent sentence. Starting the microphone after
    reading it notes « donné »; « Refus d'enregistrement » notes « enregistrement refusé » and
    deletes the call's audio (calls/recordings.py, refuse_recording)."""

    NOT_ASKED = "not_asked", _("non demandé")
    GIVEN = "given", _("donné")
    REFUSED = "refused", _("enregistrement refusé")


LEVEL_FIELDS = ["presentation_level", "questions_libres_level", "questions_orientees_level"]


class LockLost(Exception):
    """The operator no longer holds the company: nothing was changed."""


class CallRecordQuerySet(models.QuerySet):
    def submitted(self):
        return self.filter(submitted_at__isnull=False)

    def drafts(self):
        return self.filter(submitted_at__isnull=True)

    def draft_for(self, company: Company, operator) -> "CallRecord":
        """The operator's open draft for this company (kept across reloads), or a new one."""
        draft = self.drafts().filter(company=company, operator=operator).order_by("-id").first()
        if draft is None:
            draft = self.create(company=company, operator=operator, attempt=company.attempts + 1)
        return draft


class CallRecord(models.Model):
    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.PROTECT, related_name="calls"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opérateur"),
        on_delete=models.PROTECT,
        related_name="calls",
    )
    attempt = models.PositiveSmallIntegerField(_("tentative"), default=1)
    # The number dialled: one of the company's (CallForm only offers those). Each number's
    # outcome history is the calls that used it.
    phone = models.ForeignKey(
        CompanyPhone,
        verbose_name=_("numéro appelé"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    status_numero = models.CharField(
        _("statut numéros"), max_length=20, choices=NumberStatus.choices, blank=True
    )
    call_status = models.CharField(
        _("statut appel"), max_length=20, choices=CallStatus.choices, blank=True
    )
    presentation_level = models.CharField(
        _("présentation"), max_length=10, choices=Level.choices, blank=True
    )
    questions_libres_level = models.CharField(
        _("questions libres"), max_length=10, choices=Level.choices, blank=True
    )
    questions_orientees_level = models.CharField(
        _("questions orientées"), max_length=10, choices=Level.choices, blank=True
    )
    callback_at = models.DateTimeField(_("rappel prévu"), null=True, blank=True)
    callback_personal = models.BooleanField(_("rappel personnel"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    disposition = models.CharField(
        _("code AAPOR"), max_length=5, choices=Disposition.choices, blank=True
    )
    without_recording = models.BooleanField(_("sans enregistrement vocal"), default=False)
    recording_consent = models.CharField(
        _("consentement à l'enregistrement"),
        max_length=10,
        choices=Consent.choices,
        default=Consent.NOT_ASKED,
        db_default=Consent.NOT_ASKED,
    )
    consent_at = models.DateTimeField(_("consentement noté le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    status_marked_at = models.DateTimeField(_("statut saisi à"), null=True, blank=True)
    recording_started_at = models.DateTimeField(_("début d'enregistrement"), null=True, blank=True)
    recording_stopped_at = models.DateTimeField(_("fin d'enregistrement"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("validé le"), null=True, blank=True)

    objects = CallRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("appel")
        verbose_name_plural = _("appels")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("make_calls", _("Peut passer des appels")),
            ("view_all_recordings", _("Peut écouter tous les enregistrements")),
            ("view_dashboard", _("Peut voir le tableau de bord")),
            ("export_calls", _("Peut exporter les résultats")),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="call_company_idx"),
            models.Index(fields=["operator", "submitted_at"], name="call_operator_idx"),
            models.Index(fields=["submitted_at"], name="call_submitted_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(call_status="") | Q(status_numero=NumberStatus.ANSWERED),
                name="call_status_only_when_answered",
            ),
            models.CheckConstraint(
                condition=Q(
                    presentation_level="", questions_libres_level="", questions_orientees_level=""
                )
                | Q(call_status=CallStatus.ACCEPTED),
                name="call_levels_only_when_accepted",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | ~Q(status_numero=""),
                name="call_submitted_has_number_status",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | ~Q(status_numero=NumberStatus.ANSWERED)
                | ~Q(call_status=""),
                name="call_submitted_answered_has_call_status",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | ~Q(call_status=CallStatus.ACCEPTED)
                | (
                    ~Q(presentation_level="")
                    & ~Q(questions_libres_level="")
                    & ~Q(questions_orientees_level="")
                ),
                name="call_submitted_accepted_has_levels",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} — {_('tentative')} {self.attempt}"

    @property
    def is_draft(self) -> bool:
        return self.submitted_at is None

    @property
    def survey_accepted(self) -> bool:
        return self.call_status == CallStatus.ACCEPTED

    def outcome_disposition(self) -> str:
        """The AAPOR final disposition code of this call's outcome (docs/ARCHITECTURE.md)."""
        if self.status_numero == NumberStatus.INVALID:
            return Disposition.NON_WORKING
        if self.status_numero == NumberStatus.NO_ANSWER:
            return Disposition.NO_ANSWER
        if self.status_numero == NumberStatus.VOICEMAIL:
            return Disposition.ANSWERING_MACHINE
        if self.status_numero != NumberStatus.ANSWERED:
            return ""
        return {
            CallStatus.BAD_NUMBER: Disposition.NON_WORKING,
            CallStatus.NOT_TRANSFORMER: Disposition.NOT_ELIGIBLE,
            CallStatus.CALLBACK: Disposition.RESPONDENT_UNAVAILABLE,
            CallStatus.REFUSED: Disposition.REFUSAL,
            CallStatus.ACCEPTED: (
                Disposition.COMPLETE
                if all(getattr(self, f) == Level.COMPLETE for f in LEVEL_FIELDS)
                else Disposition.PARTIAL
            ),
        }.get(self.call_status, "")

    @property
    def recording_refused(self) -> bool:
        return self.recording_consent == Consent.REFUSED

    @property
    def pickers_enabled(self) -> bool:
        """Pickers open once the microphone runs or the operator chose to go without it."""
        return self.without_recording or self.recording_started_at is not None

    def outcome(self, live_number_left: bool = False) -> Outcome:
        """What this call says about its company (companies.lifecycle.outcome_values)."""
        return Outcome(
            disposition=self.outcome_disposition(),
            callback_at=self.callback_at,
            callback_operator=self.operator if self.callback_personal else None,
            live_number_left=live_number_left,
        )

    def submit(self, operator) -> None:
        """Record the outcome for good: stamp the call, note the outcome on the number it used
        (a non-working one is dead), move the company on, release the lock.

        The company moves only while operator still holds it (one conditional UPDATE);
        otherwise LockLost is raised and nothing changes (the draft stays)."""
        now = timezone.now()
        with transaction.atomic():
            # The consent as it stands now (a refusal may have landed since this form was read):
            # the call row is locked first, as refuse_recording locks it before the company.
            self.recording_consent, self.consent_at = (
                CallRecord.objects.select_for_update()
                .filter(pk=self.pk)
                .values_list("recording_consent", "consent_at")
                .get()
            )
            if self.recording_refused:
                self.without_recording = True
            self.operator = operator
            disposition = self.outcome_disposition()
            live_number_left = False
            if self.phone is not None:  # a call that names no number kills none
                self.phone.record_call(disposition, now)
                live_number_left = (
                    disposition == Disposition.NON_WORKING and self.company.phones.live().exists()
                )
            outcome = self.outcome(live_number_left=live_number_left)
            if not Company.objects.record_outcome(self.company_id, operator, outcome, now):
                raise LockLost
            self.submitted_at = now
            self.disposition = self.outcome_disposition()
            if self.call_status != CallStatus.CALLBACK:
                self.callback_at = None
                self.callback_personal = False
            self.save()
            daily.refresh_for_calls(self)  # the dashboard's kept figures
        self.company.refresh_from_db()


def recording_path(recording: "Recording", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1] if "." in filename else "webm"
    created = recording.created_at
    return f"recordings/{created:%Y/%m}/call_{recording.call_id}_{recording.pk}.{ext}"


class Health(models.TextChoices):
    """What a recording holds against what the browser recorded (calls/recordings.py, assess)."""

    RECORDING = "recording", _("en cours")
    COMPLETE = "complete", _("complet")
    INCOMPLETE = "incomplete", _("incomplet")
    SILENT = "silent", _("silencieux")
    EMPTY = "empty", _("vide")
    # Finalised before the health was recorded (older versions): nothing to compare with.
    UNCHECKED = "unchecked", _("non vérifié")


def health_label(health: str, missing_chunks: int | None = 0) -> str:
    """The words of a recording's health badge: « complet », « incomplet : 2 morceaux
    manquants », « silencieux »... ("" for no recording). The badge's template says the same
    with the same messages (calls/templates/calls/_recording_badge.html)."""
    if health == Health.INCOMPLETE and missing_chunks:
        return ngettext(
            "incomplet : %(counter)s morceau manquant",
            "incomplet : %(counter)s morceaux manquants",
            missing_chunks,
        ) % {"counter": missing_chunks}
    return str(Health(health).label) if health in Health.values else ""


class Recording(models.Model):
    call = models.ForeignKey(
        CallRecord, verbose_name=_("appel"), on_delete=models.PROTECT, related_name="recordings"
    )
    file = models.FileField(_("fichier"), upload_to=recording_path, max_length=255, blank=True)
    # Decided by the server from the audio's first bytes, never taken from the browser.
    mime_type = models.CharField(_("type"), max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("taille (octets)"), default=0)
    # The recorded span, by the browser's clock (the recorder's stop), in seconds.
    duration_seconds = models.FloatField(_("durée (s)"), default=0)
    chunk_count = models.PositiveIntegerField(_("morceaux reçus"), default=0)
    is_complete = models.BooleanField(_("terminé"), default=False)
    # The audio was deleted (retention, or the company's erasure: privacy/purge.py); the row and
    # its figures (duration, size) stay for the exports, the review queue and the dashboard.
    purged_at = models.DateTimeField(_("son purgé le"), null=True, blank=True)
    # Health, recorded when the recording is finalised. The database defaults serve rows written
    # by raw SQL (benchmarks) and the rows that existed before these columns.
    health = models.CharField(
        _("santé"),
        max_length=12,
        choices=Health.choices,
        default=Health.RECORDING,
        db_default=Health.UNCHECKED,
    )
    expected_chunks = models.PositiveIntegerField(_("morceaux enregistrés"), null=True, blank=True)
    missing_chunks = models.PositiveIntegerField(_("morceaux manquants"), default=0, db_default=0)
    missing_indexes = models.TextField(
        _("numéros des morceaux manquants"), blank=True, default="", db_default=""
    )
    received_seconds = models.FloatField(_("durée reçue (s)"), default=0, db_default=0)
    silent_seconds = models.FloatField(_("dont silence (s)"), default=0, db_default=0)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("enregistrement")
        verbose_name_plural = _("enregistrements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["call", "-created_at"], name="recording_call_idx"),
            # The dashboard sums each call's recorded seconds from this index alone.
            models.Index(fields=["call", "duration_seconds"], name="recording_duration_idx"),
        ]

    def __str__(self) -> str:
        return f"{_('Enregistrement')} {self.pk} ({self.call})"

    @property
    def silence_share(self) -> float:
        return self.silent_seconds / self.received_seconds if self.received_seconds else 0.0


class RecordingChunk(models.Model):
    """One MediaRecorder chunk as the browser sent it, kept until the recording is finalised.

    The chunks of one upload request are stored together as one object (S3 has no append):
    `offset` is where this chunk starts in `file`. The browser also says how long the chunk
    lasts and how loud it was, from which the recording's health is computed."""

    recording = models.ForeignKey(
        Recording, verbose_name=_("enregistrement"), on_delete=models.PROTECT, related_name="chunks"
    )
    index = models.PositiveIntegerField(_("numéro"))
    file = models.FileField(_("fichier"), max_length=255)
    offset = models.PositiveIntegerField(_("position dans le fichier"), default=0, db_default=0)
    size_bytes = models.PositiveIntegerField(_("taille (octets)"))
    duration_ms = models.PositiveIntegerField(_("durée (ms)"), null=True, blank=True)
    level = models.FloatField(_("niveau sonore (0 à 1)"), null=True, blank=True)
    created_at = models.DateTimeField(_("reçu le"), auto_now_add=True)

    class Meta:
        verbose_name = _("morceau d'enregistrement")
        verbose_name_plural = _("morceaux d'enregistrement")
        ordering = ["recording", "index"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "index"], name="chunk_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.recording} #{self.index}"


class RecordingDay(models.Model):
    """The bytes of audio one operator stored on one day (local date).

    The daily cap (RECORDING_OPERATOR_DAY_MAX_BYTES) is checked by one conditional UPDATE of
    this row, which also makes an operator's parallel uploads wait for each other: a chunk is
    counted on the current value, never on a value read before another upload committed."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opérateur"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("jour"))
    size_bytes = models.PositiveBigIntegerField(_("octets enregistrés"), default=0)

    class Meta:
        verbose_name = _("audio enregistré par jour")
        verbose_name_plural = _("audio enregistré par jour")
        constraints = [
            models.UniqueConstraint(fields=["operator", "day"], name="recording_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.day}: {self.size_bytes}"


# --- Playback log: who listened to which recording, and when (quality control) -------------

LISTEN_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)


def starts_a_listen(range_header: str) -> bool:
    """Whether a playback request is the start of a listen, not one more piece of it.

    An audio element asks for the file from byte 0 (no Range, or "bytes=0-") when it starts,
    then for "bytes=N-" each time the listener seeks: only the first counts. A Range that asks
    for the first byte or two only ("bytes=0-1", Safari's probe before playing) is not a listen
    either; a Range the view cannot read is served whole, so it counts."""
    match = LISTEN_RANGE_RE.match(range_header.strip())
    if not range_header.strip() or not match or not any(match.groups()):
        return True
    start, end = match.groups()
    if not start or int(start) != 0:
        return False  # a seek, or the file's last bytes
    return not end or int(end) >= 2


class ListenQuerySet(models.QuerySet):
    def record(self, user, recording: "Recording", range_header: str) -> "Listen | None":
        """One INSERT when this request starts a listen (starts_a_listen), nothing otherwise."""
        if not starts_a_listen(range_header):
            return None
        return self.create(user=user, recording=recording)


class Listen(models.Model):
    """One listen to a recording. Written by the playback view as an audit side effect (it
    never changes the recording); never edited, never deleted, but with the audio itself when
    the respondent refuses the recording (the refusal's audit entry keeps who listened, when)."""

    recording = models.ForeignKey(
        Recording,
        verbose_name=_("enregistrement"),
        on_delete=models.PROTECT,
        related_name="listens",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("écouté par"),
        on_delete=models.PROTECT,
        related_name="listens",
    )
    listened_at = models.DateTimeField(_("écouté le"), default=timezone.now)

    objects = ListenQuerySet.as_manager()

    class Meta:
        verbose_name = _("écoute")
        verbose_name_plural = _("écoutes")
        ordering = ["-listened_at", "-id"]
        indexes = [
            models.Index(fields=["recording", "-listened_at"], name="listen_recording_idx"),
            models.Index(fields=["user", "-listened_at"], name="listen_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.recording_id} — {self.listened_at:%Y-%m-%d %H:%M}"


class DailyFigures(models.Model):
    """An operator's submitted calls of one day (local calendar day of their submission) in
    one campaign, counted: the dashboard adds these rows up over its period. Kept exact by
    calls/daily.py (recounted at each submission, rebuilt by `manage.py
    rebuild_dashboard_figures`); never edited by hand."""

    day = models.DateField(_("jour"))
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campagne"), on_delete=models.PROTECT, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opérateur"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    calls = models.PositiveIntegerField(_("appels"), default=0)
    answered = models.PositiveIntegerField(_("décrochés"), default=0)
    accepted = models.PositiveIntegerField(_("questionnaires acceptés"), default=0)
    complete = models.PositiveIntegerField(_("entretiens complets"), default=0)
    number_invalid = models.PositiveIntegerField(default=0)
    number_no_answer = models.PositiveIntegerField(default=0)
    number_voicemail = models.PositiveIntegerField(default=0)
    number_answered = models.PositiveIntegerField(default=0)
    outcome_bad_number = models.PositiveIntegerField(default=0)
    outcome_not_transformer = models.PositiveIntegerField(default=0)
    outcome_callback = models.PositiveIntegerField(default=0)
    outcome_refused = models.PositiveIntegerField(default=0)
    outcome_accepted = models.PositiveIntegerField(default=0)
    recorded_calls = models.PositiveIntegerField(_("appels enregistrés"), default=0)
    recorded_seconds = models.FloatField(_("secondes enregistrées"), default=0)
    last_submitted_at = models.DateTimeField(_("dernier appel validé"), null=True)
    # 24 counts: calls of each hour of the day (whole hours since local midnight).
    calls_per_hour = models.JSONField(_("appels par heure"), default=list)
    # Productivity (calls/daily.py, time_logged_in): time logged in, and the part of it between
    # two calls; recorded calls by class of length (lengths_under_60: from 30 s to under 60 s).
    logged_seconds = models.FloatField(_("temps connecté (s)"), default=0)
    idle_seconds = models.FloatField(_("temps entre appels (s)"), default=0)
    lengths_under_30 = models.PositiveIntegerField(default=0)
    lengths_under_60 = models.PositiveIntegerField(default=0)
    lengths_under_90 = models.PositiveIntegerField(default=0)
    lengths_under_120 = models.PositiveIntegerField(default=0)
    lengths_under_180 = models.PositiveIntegerField(default=0)
    lengths_under_240 = models.PositiveIntegerField(default=0)
    lengths_under_300 = models.PositiveIntegerField(default=0)
    lengths_under_420 = models.PositiveIntegerField(default=0)
    lengths_under_600 = models.PositiveIntegerField(default=0)
    lengths_under_900 = models.PositiveIntegerField(default=0)
    lengths_under_1800 = models.PositiveIntegerField(default=0)
    lengths_over_1800 = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("chiffres du jour")
        verbose_name_plural = _("chiffres des jours")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "operator", "campaign"], name="daily_figures_unique"
            )
        ]
        indexes = [models.Index(fields=["campaign", "day"], name="daily_figures_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.operator_id} {self.campaign_id}"
