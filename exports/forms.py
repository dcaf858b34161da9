from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, CallStatus, NumberStatus
from companies.models import Campaign
from core.forms import DayField
from core.roles import OPERATORS
from exports.writers import ExportFormat, Filters, Scope


class OperatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.get_username()


def operator_choices():
    """People who made calls, and current operators (who may not have called yet)."""
    User = get_user_model()
    return (
        User.objects.filter(
            Exists(CallRecord.objects.filter(operator=OuterRef("pk")))
            | Exists(User.groups.through.objects.filter(user=OuterRef("pk"), group__name=OPERATORS))
        )
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def radio_choice(label, choices, *, required, invalid) -> forms.ChoiceField:
    """Radio buttons for a TextChoices, its first choice picked, with French messages."""
    return forms.ChoiceField(
        label=label,
        choices=choices.choices,
        initial=choices.values[0],
        widget=forms.RadioSelect,
        error_messages={"required": required, "invalid_choice": invalid},
    )


class ExportForm(forms.Form):
    """What to export. Everything a forged query string could send is checked here, and the
    command line goes through the same form."""

    format = radio_choice(
        _("Format"),
        ExportFormat,
        required=_("Choisissez un format."),
        invalid=_("Format inconnu : choisissez XLSX ou CSV."),
    )
    scope = radio_choice(
        _("Contenu"),
        Scope,
        required=_("Choisissez le contenu : appels ou entreprises."),
        invalid=_("Contenu inconnu : choisissez appels ou entreprises."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campagne"),
        queryset=Campaign.objects.order_by("-created_at", "-id"),
        required=False,
        empty_label=_("Toutes les campagnes"),
        error_messages={"invalid_choice": _("Cette campagne n'existe pas.")},
    )
    date_from = DayField(
        label=_("Appels du"),
        invalid_message=_("Date de début invalide (attendu : AAAA-MM-JJ)."),
    )
    date_to = DayField(
        label=_("au"), invalid_message=_("Date de fin invalide (attendu : AAAA-MM-JJ).")
    )
    operator = OperatorChoiceField(
        label=_("Opérateur"),
        queryset=operator_choices(),
        required=False,
        empty_label=_("Tous les opérateurs"),
        error_messages={"invalid_choice": _("Cet opérateur n'existe pas.")},
    )
    number_status = forms.ChoiceField(
        label=_("Statut numéros"),
        choices=[("", _("Tous"))] + NumberStatus.choices,
        required=False,
        error_messages={"invalid_choice": _("Statut numéros inconnu.")},
    )
    call_status = forms.ChoiceField(
        label=_("Statut appel"),
        choices=[("", _("Tous"))] + CallStatus.choices,
        required=False,
        error_messages={"invalid_choice": _("Statut appel inconnu.")},
    )

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("La date de fin doit être postérieure à la date de début."))
        number_status, call_status = cleaned.get("number_status"), cleaned.get("call_status")
        if call_status and number_status and number_status != NumberStatus.ANSWERED:
            self.add_error(
                "call_status",
                _("Un statut appel n'existe que pour un numéro qui a décroché (« Décroche »)."),
            )
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            campaign=data.get("campaign"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            operator=data.get("operator"),
            number_status=data.get("number_status") or "",
            call_status=data.get("call_status") or "",
        )
