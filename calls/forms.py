from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.callbacks import monday_of
from calls.dashboard import Filters, PeriodChoice
from calls.models import LEVEL_FIELDS, CallRecord, CallStatus, NumberStatus
from companies.models import Campaign, CompanyPhone
from core.audit import disable_auditlog
from core.forms import DayField

# The keys that pick the call form's answers, in the order of each field's choices: digits for
# the number's and the call's status, then pairs on the home row (same place on AZERTY and
# QWERTY) for « Partiel » / « Complet » of the three levels. Shown on the buttons and listed by
# « ? »; static/js/keyboard.js presses them.
SHORTCUTS = {
    "status_numero": "1234",
    "call_status": "56789",
    "presentation_level": "SD",
    "questions_libres_level": "FG",
    "questions_orientees_level": "HJ",
}


class ShortcutRadioSelect(forms.RadioSelect):
    """Radio buttons whose choices each carry a key (`shortcut` in each option's data)."""

    def __init__(self, keys: str, attrs=None):
        super().__init__(attrs)
        self.keys = keys

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["shortcut"] = self.keys[index] if index < len(self.keys) else ""
        return option


class CallForm(forms.ModelForm):
    """The call form. As a draft (every picker change) it keeps what makes sense and drops the
    answers a changed upstream choice made meaningless; as a submission it refuses any
    inconsistency with a clear message (a forged POST changes nothing)."""

    class Meta:
        model = CallRecord
        fields = [
            "without_recording",
            "phone",
            "status_numero",
            "call_status",
            *LEVEL_FIELDS,
            "callback_at",
            "callback_personal",
            "notes",
        ]
        widgets = {
            "phone": forms.RadioSelect,
            **{name: ShortcutRadioSelect(keys) for name, keys in SHORTCUTS.items()},
            "callback_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "phone": _("Numéro appelé"),
            "status_numero": _("Statut numéros"),
            "call_status": _("Statut appel"),
            "presentation_level": _("Présentation"),
            "questions_libres_level": _("Questions libres"),
            "questions_orientees_level": _("Questions orientées"),
            "without_recording": _("Continuer sans enregistrement vocal"),
            "callback_personal": _("Rappel personnel (gardé pour moi)"),
        }

    def __init__(self, *args, submitting: bool = False, numbers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        self.outcome_before = (self.instance.status_numero, self.instance.call_status)
        for name in ["status_numero", "call_status", *LEVEL_FIELDS]:
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]
        # Only this company's numbers (a forged one of another company is an invalid choice),
        # and not the dead ones while another is live. `numbers`: those a form for the same
        # call just read (the form shown again after a draft save).
        company_numbers = CompanyPhone.objects.filter(company_id=self.instance.company_id).order_by(
            "position", "id"
        )
        if numbers is None:
            numbers = company_numbers.dialable()
        self.numbers = numbers
        phone = self.fields["phone"]
        phone.queryset = company_numbers.filter(pk__in=[n.pk for n in self.numbers])
        phone.empty_label = None
        phone.error_messages["invalid_choice"] = _(
            "Ce numéro n'est pas un numéro de l'entreprise que vous appelez."
        )
        if self.instance.recording_refused:
            # The respondent refused the recording: the call goes on without it, for good.
            self.fields["without_recording"].disabled = True
        self.fields["callback_at"].input_formats = [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%d/%m/%Y %H:%M",
        ]

    def shortcut_fields(self) -> list[forms.BoundField]:
        """The pickers that have keys, for the list « ? » opens."""
        return [self[name] for name in SHORTCUTS]

    def _get_validation_exclusions(self):
        """The model's own validation leaves out the number and the outcome: the number is one
        this form offered (one of the company's), and clean() already enforces the constraints
        on the outcome (a draft drops the answers they forbid, a submission refuses them with a
        message). Checked again by the model, each would cost a query per draft save; the
        database still enforces the constraints."""
        return super()._get_validation_exclusions() | {"phone", "call_status", *LEVEL_FIELDS}

    def clean(self):
        data = super().clean()
        if len(self.numbers) == 1 and "phone" not in self.errors:
            data["phone"] = self.numbers[0]  # one number: no choice to make
        if self.submitting:
            self.check_submission(data)
        else:
            self.drop_meaningless_answers(data)
        return data

    def drop_meaningless_answers(self, data) -> None:
        if not (data.get("without_recording") or self.instance.recording_started_at):
            # The pickers stay shut until the microphone runs or is waived.
            data["status_numero"] = ""
        if data.get("status_numero") != NumberStatus.ANSWERED:
            data["call_status"] = ""
        if data.get("call_status") != CallStatus.ACCEPTED:
            for name in LEVEL_FIELDS:
                data[name] = ""
        if data.get("call_status") != CallStatus.CALLBACK:
            data["callback_at"] = None
            data["callback_personal"] = False

    def save_draft(self) -> CallRecord:
        """Keep the answers as a draft (nothing typed is lost on a reload). Each answer stamps
        status_marked_at with the server's clock."""
        call = self.save(commit=False)
        if call.status_numero or (call.status_numero, call.call_status) != self.outcome_before:
            call.status_marked_at = timezone.now()
        # Only what the form holds: a consent refused meanwhile (another request) stays. A draft
        # gets no audit entry (core/audit.py): auditlog need not read the row first.
        with disable_auditlog():
            call.save(update_fields=[*self.Meta.fields, "status_marked_at", "updated_at"])
        return call

    def check_submission(self, data) -> None:
        if not (data.get("without_recording") or self.instance.recording_started_at):
            raise forms.ValidationError(
                _("Lancez le micro ou cochez « Continuer sans enregistrement vocal »."),
                code="no_recording",
            )
        if not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Indiquez le numéro que vous avez appelé."))
        status_numero = data.get("status_numero")
        call_status = data.get("call_status")
        if not status_numero:
            self.add_error("status_numero", _("Choisissez le statut du numéro."))
            return
        if status_numero != NumberStatus.ANSWERED and call_status:
            self.add_error(
                "call_status", _("Un statut d'appel n'est possible que si l'entreprise décroche.")
            )
        if status_numero == NumberStatus.ANSWERED and not call_status:
            self.add_error("call_status", _("Choisissez le statut de l'appel."))
        levels = {name: data.get(name) for name in LEVEL_FIELDS}
        if call_status == CallStatus.ACCEPTED:
            for name, value in levels.items():
                if not value:
                    self.add_error(name, _("Indiquez le niveau atteint."))
        elif any(levels.values()):
            self.add_error(
                None,
                _("Les niveaux ne s'indiquent que si le questionnaire est accepté."),
            )
        if call_status != CallStatus.CALLBACK and (
            data.get("callback_at") or data.get("callback_personal")
        ):
            self.add_error(
                "callback_at", _("Une date de rappel n'a de sens que pour un « Rappel ».")
            )


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.is_active else _("%(name)s (inactive)") % {"name": obj.name}


class DashboardFilterForm(forms.Form):
    """Campaign and period of the dashboard. Invalid input never fails the page: each invalid
    field falls back to its default (see filters()) and the errors are shown."""

    campaign = CampaignChoiceField(
        label=_("Campagne"),
        queryset=Campaign.objects.order_by("-is_active", "-created_at", "-id"),
        required=False,
        empty_label=_("Toutes les campagnes"),
        error_messages={"invalid_choice": _("Cette campagne n'existe pas.")},
    )
    period = forms.ChoiceField(
        label=_("Période"),
        choices=PeriodChoice.choices,
        required=False,
        error_messages={"invalid_choice": _("Cette période n'existe pas.")},
    )
    date_from = DayField(label=_("Du"), invalid_message=_("Date de début invalide."))
    date_to = DayField(label=_("Au"), invalid_message=_("Date de fin invalide."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, bound in self.fields.items():
            css = "form-select" if name in ("campaign", "period") else "form-control"
            bound.widget.attrs["class"] = css

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") != PeriodChoice.CUSTOM:
            return cleaned
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if "date_from" in self.errors or "date_to" in self.errors:
            self.add_error("period", _("Période personnalisée ignorée : dates invalides."))
        elif not (date_from and date_to):
            self.add_error(
                "period",
                _("Choisissez la date de début et la date de fin de la période personnalisée."),
            )
        elif date_from > date_to:
            self.add_error("period", _("La date de fin précède la date de début."))
        return cleaned

    def filters(self) -> Filters:
        """The filters to apply: the valid fields' values, the default for any invalid one."""
        valid = self.is_valid()
        data = self.cleaned_data if valid else getattr(self, "cleaned_data", {})
        period = data.get("period") or PeriodChoice.TODAY
        return Filters(
            campaign=data.get("campaign"),
            period=period,
            date_from=data.get("date_from") if period == PeriodChoice.CUSTOM else None,
            date_to=data.get("date_to") if period == PeriodChoice.CUSTOM else None,
        )


# --- The callback calendar ------------------------------------------------------------------


class WeekForm(forms.Form):
    """The week the calendar shows: the one of any day given (?semaine=AAAA-MM-JJ)."""

    semaine = DayField(label=_("Semaine du"), invalid_message=_("Date invalide."))

    def monday(self) -> date:
        """The Monday of the week asked for; this week when none is given or it is invalid."""
        day = self.cleaned_data.get("semaine") if self.is_valid() else None
        return monday_of(day or timezone.localdate())


def callers():
    """Active accounts that make calls (operators, supervisors, admins)."""
    return (
        get_user_model()
        .objects.with_perm("calls.make_calls", backend="core.permissions.PermissionBackend")
        .order_by("first_name", "last_name", "username")
    )


class CallerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class HandOverForm(forms.Form):
    """A supervisor hands the personal callbacks of an absent operator to another operator,
    or to everybody."""

    from_operator = CallerChoiceField(
        label=_("Rappels personnels de"),
        queryset=None,
        error_messages={
            "required": _("Choisissez l'opérateur absent."),
            "invalid_choice": _("Cet opérateur n'existe pas ou ne passe pas d'appels."),
        },
    )
    to_operator = CallerChoiceField(
        label=_("À confier à"),
        queryset=None,
        required=False,
        empty_label=_("Tous les opérateurs (rappels partagés)"),
        error_messages={
            "invalid_choice": _("Cet opérateur n'existe pas ou ne passe pas d'appels."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("from_operator", "to_operator"):
            self.fields[name].queryset = callers()
            self.fields[name].widget.attrs["class"] = "form-select"

    def clean(self):
        cleaned = super().clean()
        absent, given_to = cleaned.get("from_operator"), cleaned.get("to_operator")
        if absent is not None and absent == given_to:
            self.add_error("to_operator", _("Choisissez un autre opérateur que l'absent."))
        return cleaned
