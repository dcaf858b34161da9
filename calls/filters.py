import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.models import Campaign, Company, Status


class CallListFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Recherche"),
        method="search",
        widget=django_filters.widgets.forms.TextInput(
            attrs={"placeholder": _("Nom, téléphone ou NIU"), "type": "search"}
        ),
    )
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campagne"),
        queryset=Campaign.objects.filter(is_active=True),
        empty_label=_("Toutes"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Statut"), choices=Status.choices, empty_label=_("Tous"), method="current_status"
    )
    location = django_filters.CharFilter(label=_("Localisation"), lookup_expr="icontains")
    activity = django_filters.CharFilter(label=_("Activité"), lookup_expr="icontains")

    class Meta:
        model = Company
        fields = ["q", "campaign", "status", "location", "activity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

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
