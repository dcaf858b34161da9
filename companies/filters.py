import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.models import Campaign, Company, DoNotCallEntry, Status

ARCHIVED_CHOICES = [
    ("non", _("Non archivées")),
    ("oui", _("Archivées")),
    ("toutes", _("Toutes")),
]


class CompanySearch(django_filters.FilterSet):
    """What both tables of companies filter on (the contacts here, the call list in calls): a
    search on name, NIU and phone, the status the queue sees, location and activity."""

    q = django_filters.CharFilter(
        label=_("Recherche"),
        method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nom, téléphone, NIU…")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Statut"),
        choices=Status.choices,
        empty_label=_("Tous les statuts"),
        method="current_status",
    )
    location = django_filters.CharFilter(label=_("Localisation"), lookup_expr="icontains")
    activity = django_filters.CharFilter(label=_("Activité"), lookup_expr="icontains")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")

    def current_status(self, queryset, name, value):
        return queryset.in_current_status(value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        digits = "".join(ch for ch in value if ch.isdigit())
        condition = Q(name__icontains=value) | Q(niu__icontains=value) | Q(phone__icontains=value)
        if len(digits) >= 4:
            condition |= Q(phone_e164__contains=digits)
        return queryset.filter(condition)


class CompanyFilter(CompanySearch):
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campagne"),
        queryset=Campaign.objects.order_by("name"),
        empty_label=_("Toutes les campagnes"),
    )
    archived = django_filters.ChoiceFilter(
        label=_("Archivées"),
        choices=ARCHIVED_CHOICES,
        empty_label=None,
        method="filter_archived",
    )

    class Meta:
        model = Company
        fields = ["q", "campaign", "status", "location", "activity", "archived"]

    def filter_archived(self, queryset, name, value):
        if value == "oui":
            return queryset.filter(is_archived=True)
        if value == "toutes":
            return queryset
        return queryset.filter(is_archived=False)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            # Archived companies (taken out of a list by a replace) stay hidden by default.
            queryset = queryset.filter(is_archived=False)
        return queryset


STATE_CHOICES = [
    ("live", _("Sur la liste")),
    ("removed", _("Retirés (historique)")),
    ("all", _("Tous")),
]


class DoNotCallFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Recherche"),
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Téléphone, NIU, entreprise, motif…")}
        ),
    )
    state = django_filters.ChoiceFilter(
        label=_("État"), choices=STATE_CHOICES, empty_label=None, method="filter_state"
    )

    class Meta:
        model = DoNotCallEntry
        fields = ["q", "state"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = (
            Q(phone_e164__icontains=value)
            | Q(niu__icontains=value.replace(" ", ""))
            | Q(company_name__icontains=value)
            | Q(reason__icontains=value)
        )
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 4:
            condition |= Q(phone_e164__contains=digits)
        return queryset.filter(condition)

    def filter_state(self, queryset, name, value):
        if value == "removed":
            return queryset.removed()
        if value == "all":
            return queryset
        return queryset.live()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.live()
        return queryset
