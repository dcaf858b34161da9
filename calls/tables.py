import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from companies.models import Company


class CallListTable(tables.Table):
    """Headers, sorting and pagination of the call list. The cells are rendered by the "row"
    partial of calls/call_list.html (see calls/call_table.html), in the order of `sequence`."""

    name = tables.Column(verbose_name=_("Entreprise"))
    phone = tables.Column(verbose_name=_("Téléphone"), orderable=False)
    location = tables.Column(verbose_name=_("Localisation"))
    activity = tables.Column(verbose_name=_("Activité"))
    validity_score = tables.Column(verbose_name=_("Score"))
    status = tables.Column(verbose_name=_("Statut"))
    attempts = tables.Column(verbose_name=_("Tentatives"))
    callback_at = tables.Column(verbose_name=_("Rappel"))
    lock = tables.Column(verbose_name=_("Verrou"), orderable=False, empty_values=())
    actions = tables.Column(verbose_name=_("Actions"), orderable=False, empty_values=())

    class Meta:
        model = Company
        fields = [
            "name",
            "phone",
            "location",
            "activity",
            "validity_score",
            "status",
            "attempts",
            "callback_at",
        ]
        sequence = [*fields, "lock", "actions"]
        template_name = "calls/call_table.html"
        attrs = {"class": "table table-sm table-hover align-middle bg-body", "id": "call-table"}
        empty_text = _("Aucune entreprise ne correspond à ces filtres.")
        order_by = ()
