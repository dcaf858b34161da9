import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from companies.models import Company


class CallListTable(tables.Table):
    name = tables.Column(verbose_name=_("Entreprise"), attrs={"td": {"class": "fw-semibold"}})
    phone = tables.Column(
        verbose_name=_("Téléphone"), orderable=False, attrs={"td": {"class": "text-nowrap"}}
    )
    location = tables.Column(verbose_name=_("Localisation"))
    activity = tables.Column(verbose_name=_("Activité"))
    validity_score = tables.Column(verbose_name=_("Score"))
    status = tables.TemplateColumn(
        template_name="calls/call_list.html#status_cell", verbose_name=_("Statut")
    )
    attempts = tables.Column(verbose_name=_("Tentatives"))
    callback_at = tables.DateTimeColumn(verbose_name=_("Rappel"), format="d/m H:i")
    lock = tables.TemplateColumn(
        template_name="calls/call_list.html#lock_cell",
        verbose_name=_("Verrou"),
        orderable=False,
        attrs={"td": {"id": lambda record: f"lock-{record.pk}"}},
    )
    actions = tables.TemplateColumn(
        template_name="calls/call_list.html#action_cell",
        verbose_name=_("Actions"),
        orderable=False,
        attrs={"td": {"id": lambda record: f"action-{record.pk}", "class": "text-nowrap"}},
    )

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
        attrs = {"class": "table table-sm table-hover align-middle bg-body", "id": "call-table"}
        row_attrs = {
            "id": lambda record: f"company-{record.pk}",
            "class": lambda record: "table-callback-due" if record.is_due_callback else "",
            "data-company-id": lambda record: record.pk,
        }
        empty_text = _("Aucune entreprise ne correspond à ces filtres.")
        order_by = ()
