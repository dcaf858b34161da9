"""Quality control: which calls are picked for review and why, the campaign's scorecard, and
the reviews themselves. docs/ARCHITECTURE.md (« Quality control ») tells when selection happens.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import localize
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord
from companies.models import Campaign


class ReviewPolicy(models.Model):
    """A campaign's sampling rate and flag thresholds. A campaign without one uses the defaults
    (policy_for() returns an unsaved instance: reading never writes)."""

    campaign = models.OneToOneField(
        Campaign, verbose_name=_("campagne"), on_delete=models.PROTECT, related_name="+"
    )
    sample_percent = models.DecimalField(
        _("taux de tirage aléatoire (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Part des appels de chaque opérateur tirés au sort (au moins un par jour)."),
    )
    min_recording_seconds = models.PositiveIntegerField(
        _("durée minimale d'enregistrement d'un entretien (s)"),
        default=60,
        help_text=_(
            "Un entretien accepté enregistré moins longtemps (ou pas du tout) est signalé."
        ),
    )
    no_recording_percent = models.DecimalField(
        _("part maximale d'appels sans enregistrement (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "Au-delà, dans la journée d'un opérateur, ses appels sans enregistrement sont signalés."
        ),
    )
    no_recording_min_calls = models.PositiveIntegerField(
        _("nombre d'appels avant de juger cette part"),
        default=5,
        validators=[MinValueValidator(1)],
    )
    short_call_seconds = models.PositiveIntegerField(
        _("appel très court : moins de (s)"),
        default=15,
        validators=[MinValueValidator(1)],
        help_text=_("Durée de l'ouverture du formulaire à la validation."),
    )
    short_run_length = models.PositiveIntegerField(
        _("série d'appels très courts signalée à partir de"),
        default=5,
        validators=[MinValueValidator(2)],
    )

    class Meta:
        verbose_name = _("règles de contrôle")
        verbose_name_plural = _("règles de contrôle")

    def __str__(self) -> str:
        return str(self.campaign)


def policy_for(campaign: Campaign) -> ReviewPolicy:
    return ReviewPolicy.objects.filter(campaign=campaign).first() or ReviewPolicy(campaign=campaign)


SUGGESTED_CRITERIA = [
    (_("Présentation faite"), False),
    (_("Consentement demandé"), True),
    (_("Questions posées dans l'ordre"), False),
]


class Criterion(models.Model):
    """One line of a campaign's scorecard, passed or failed by the reviewer. An eliminatory
    criterion failed forbids « Validé ». Never deleted once used: retired (is_active off)."""

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campagne"),
        on_delete=models.PROTECT,
        related_name="review_criteria",
    )
    label = models.CharField(_("critère"), max_length=200)
    is_eliminatory = models.BooleanField(_("éliminatoire"), default=False)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("en usage"), default=True)

    class Meta:
        verbose_name = _("critère d'évaluation")
        verbose_name_plural = _("critères d'évaluation")
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="criterion_unique_label")
        ]

    def __str__(self) -> str:
        return self.label


class Reason(models.TextChoices):
    RANDOM = "random", _("Tirage aléatoire")
    SHORT_RECORDING = "short_recording", _("Entretien accepté : enregistrement court ou absent")
    NO_RECORDING_SHARE = "no_recording_share", _("Trop d'appels sans enregistrement")
    SHORT_RUN = "short_run", _("Série d'appels très courts")
    MANUAL = "manual", _("Choisi par un superviseur")


class Verdict(models.TextChoices):
    VALID = "valid", _("Validé")
    REDO = "redo", _("À revoir")
    REJECTED = "rejected", _("Rejeté")


class ReviewItemQuerySet(models.QuerySet):
    def reviewed(self):
        return self.exclude(verdict="")

    def to_review(self):
        return self.filter(verdict="")


class ReviewItem(models.Model):
    """A submitted call in the review queue (why: its reasons) and, once reviewed, its verdict.
    Operator, campaign and day are copied from the call so the queue filters on one table."""

    call = models.OneToOneField(
        CallRecord, verbose_name=_("appel"), on_delete=models.PROTECT, related_name="review_item"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opérateur"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campagne"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("jour de l'appel"))
    created_at = models.DateTimeField(_("choisi le"), auto_now_add=True)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("évalué par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("évalué le"), null=True, blank=True)

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("appel à contrôler")
        verbose_name_plural = _("appels à contrôler")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("review_calls", _("Peut évaluer les appels")),
            ("correct_calls", _("Peut corriger les réponses d'un appel validé")),
        ]
        indexes = [
            models.Index(fields=["verdict", "-created_at"], name="review_queue_idx"),
            models.Index(fields=["operator", "day"], name="review_operator_day_idx"),
            models.Index(fields=["campaign", "verdict"], name="review_campaign_idx"),
        ]

    def __str__(self) -> str:
        return str(self.call)

    @property
    def is_reviewed(self) -> bool:
        return bool(self.verdict)


class Selection(models.Model):
    """One reason why a call is in the review queue, with what was measured."""

    item = models.ForeignKey(
        ReviewItem, verbose_name=_("appel"), on_delete=models.CASCADE, related_name="reasons"
    )
    reason = models.CharField(_("motif"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("détail"), max_length=255, blank=True)
    measures = models.JSONField(_("mesures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("motif de contrôle")
        verbose_name_plural = _("motifs de contrôle")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "reason"], name="selection_unique_reason")
        ]
        indexes = [models.Index(fields=["reason", "item"], name="selection_reason_idx")]

    def __str__(self) -> str:
        return self.get_reason_display()

    def describe(self) -> str:
        """What was measured, in the reader's language (a selection from before the measures
        were kept shows its stored text)."""
        return describe(self.measures) or self.detail


def describe(measures: dict) -> str:
    """A selection's measures (quality.sampling) as a sentence in the active language."""
    kind = measures.get("kind")
    if kind == "short_interview":
        return _("Entretien accepté enregistré %(seconds)d s (minimum %(min)d s).") % measures
    if kind == "unrecorded_interview":
        return str(_("Entretien accepté sans enregistrement."))
    if kind == "no_recording_share":
        return _(
            "%(without)d appels sur %(total)d sans enregistrement dans la journée "
            "(plus de %(limit)s %%)."
        ) % {**measures, "limit": localize(Decimal(measures["limit"]))}
    if kind == "short_run":
        return _("%(count)d appels de suite de moins de %(seconds)d s.") % measures
    if kind == "random":
        return _("Tirage au sort à %(rate)s %%.") % {"rate": localize(Decimal(measures["rate"]))}
    if kind == "random_top_up":
        return (
            _("Complément du tirage : au moins %(count)d appel(s) contrôlé(s) ce jour-là.")
            % measures
        )
    return ""


class CriterionResult(models.Model):
    item = models.ForeignKey(
        ReviewItem, verbose_name=_("appel"), on_delete=models.CASCADE, related_name="results"
    )
    criterion = models.ForeignKey(
        Criterion, verbose_name=_("critère"), on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(_("respecté"))

    class Meta:
        verbose_name = _("résultat d'un critère")
        verbose_name_plural = _("résultats des critères")
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "criterion"], name="result_unique_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.passed}"
