import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from companies.models import Campaign
from core.roles import OPERATORS
from quality.models import Reason, ReviewItem, Verdict

REVIEWED_CHOICES = [
    ("non", _("À contrôler")),
    ("oui", _("Contrôlés")),
    ("tous", _("Tous")),
]


class QueueFilter(django_filters.FilterSet):
    operator = django_filters.ModelChoiceFilter(
        label=_("Opérateur"),
        queryset=get_user_model().objects.filter(groups__name=OPERATORS).order_by("username"),
        empty_label=_("Tous les opérateurs"),
    )
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campagne"),
        queryset=Campaign.objects.order_by("name"),
        empty_label=_("Toutes les campagnes"),
    )
    reason = django_filters.ChoiceFilter(
        label=_("Motif"),
        choices=Reason.choices,
        empty_label=_("Tous les motifs"),
        field_name="reasons__reason",
    )
    reviewed = django_filters.ChoiceFilter(
        label=_("Contrôle"),
        choices=REVIEWED_CHOICES,
        empty_label=None,
        method="filter_reviewed",
    )
    verdict = django_filters.ChoiceFilter(
        label=_("Verdict"), choices=Verdict.choices, empty_label=_("Tous les verdicts")
    )

    class Meta:
        model = ReviewItem
        fields = ["operator", "campaign", "reason", "reviewed", "verdict"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")
        self.form.fields["operator"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )

    def filter_reviewed(self, queryset, name, value):
        if value == "oui":
            return queryset.reviewed()
        if value == "tous":
            return queryset
        return queryset.to_review()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("reviewed"):
            queryset = queryset.to_review()  # what is left to do, by default
        return queryset
