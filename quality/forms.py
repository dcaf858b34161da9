from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.forms import SHORTCUTS, CallForm
from quality.models import Criterion, CriterionResult, ReviewItem, ReviewPolicy, Verdict

PASSED, FAILED = "1", "0"


class ReviewForm(forms.Form):
    """The scorecard of one call: each active criterion of its campaign passed or failed, a
    verdict and a comment. An eliminatory criterion failed forbids « Validé »."""

    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez un verdict."),
            "invalid_choice": _("Ce verdict n'existe pas."),
        },
    )
    comment = forms.CharField(
        label=_("Commentaire"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, criteria: list[Criterion], item: ReviewItem | None = None, **kw):
        if item is not None and item.is_reviewed and "initial" not in kw:
            results = {r.criterion_id: r.passed for r in item.results.all()}
            kw["initial"] = {
                "verdict": item.verdict,
                "comment": item.comment,
                **{
                    f"criterion_{pk}": PASSED if passed else FAILED
                    for pk, passed in results.items()
                },
            }
        super().__init__(*args, **kw)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.ChoiceField(
                label=criterion.label,
                choices=[(PASSED, _("Respecté")), (FAILED, _("Non respecté"))],
                widget=forms.RadioSelect,
                error_messages={"required": _("Indiquez si ce critère est respecté.")},
            )
            self.fields[f"criterion_{criterion.pk}"].eliminatory = criterion.is_eliminatory

    def criterion_fields(self):
        return [self[f"criterion_{criterion.pk}"] for criterion in self.criteria]

    def clean(self):
        data = super().clean()
        failed = [
            c.label
            for c in self.criteria
            if c.is_eliminatory and data.get(f"criterion_{c.pk}") == FAILED
        ]
        if failed and data.get("verdict") == Verdict.VALID:
            self.add_error(
                "verdict",
                _(
                    "Critère éliminatoire non respecté (%(criteria)s) : "
                    "l'appel ne peut pas être « Validé »."
                )
                % {"criteria": ", ".join(failed)},
            )
        return data

    def save(self, item: ReviewItem, reviewer) -> ReviewItem:
        with transaction.atomic():
            item.verdict = self.cleaned_data["verdict"]
            item.comment = self.cleaned_data["comment"]
            item.reviewer = reviewer
            item.reviewed_at = timezone.now()
            item.save()
            for criterion in self.criteria:
                CriterionResult.objects.update_or_create(
                    item=item,
                    criterion=criterion,
                    defaults={"passed": self.cleaned_data[f"criterion_{criterion.pk}"] == PASSED},
                )
        return item


class CorrectionForm(CallForm):
    """The answers of a submitted call, as the call form validates them at submission, plus
    the reason of the correction (required). Whether the call was recorded is a fact of the
    call, not an answer: it is not corrected."""

    reason = forms.CharField(
        label=_("Motif de la correction"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Indiquez le motif de la correction.")},
    )

    class Meta(CallForm.Meta):
        fields = [name for name in CallForm.Meta.fields if name != "without_recording"]
        # The call form's keys (static/js/keyboard.js) are the operator's, not on this page.
        widgets = {**CallForm.Meta.widgets, **dict.fromkeys(SHORTCUTS, forms.RadioSelect)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submitting=True, **kwargs)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Indiquez le motif de la correction."))
        return reason

    def clean(self):
        self.cleaned_data["without_recording"] = self.instance.without_recording
        return super().clean()


class PolicyForm(forms.ModelForm):
    class Meta:
        model = ReviewPolicy
        fields = [
            "sample_percent",
            "min_recording_seconds",
            "no_recording_percent",
            "no_recording_min_calls",
            "short_call_seconds",
            "short_run_length",
        ]


CriterionFormSet = forms.modelformset_factory(
    Criterion,
    fields=["label", "is_eliminatory", "position", "is_active"],
    extra=1,
    can_delete=False,
)
