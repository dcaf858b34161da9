import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from quality.models import ReviewItem, Verdict

VERDICT_BADGES = {
    Verdict.VALID: "text-bg-success",
    Verdict.REDO: "text-bg-warning",
    Verdict.REJECTED: "text-bg-danger",
}


class QueueTable(tables.Table):
    submitted_at = tables.DateTimeColumn(
        verbose_name=_("Appel du"), accessor="call__submitted_at", format="SHORT_DATETIME_FORMAT"
    )
    operator = tables.Column(verbose_name=_("Opérateur"), order_by=("operator__username",))
    company = tables.Column(
        verbose_name=_("Entreprise"),
        accessor="call__company__name",
        order_by=("call__company__name",),
    )
    campaign = tables.Column(verbose_name=_("Campagne"), order_by=("campaign__name",))
    outcome = tables.Column(
        verbose_name=_("Issue"), accessor="call__disposition", order_by=("call__disposition",)
    )
    reasons = tables.Column(verbose_name=_("Motifs"), empty_values=(), orderable=False)
    verdict = tables.Column(verbose_name=_("Contrôle"), empty_values=())
    review = tables.LinkColumn(
        "quality:review",
        args=[tables.A("call_id")],
        text=_("Évaluer"),
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = ReviewItem
        fields = [
            "submitted_at",
            "operator",
            "company",
            "campaign",
            "outcome",
            "reasons",
            "verdict",
        ]
        row_attrs = {"id": lambda record: f"item-{record.call_id}"}
        empty_text = _("Aucun appel à contrôler avec ces filtres.")
        order_by = ("-submitted_at",)

    def render_operator(self, value):
        return value.get_full_name() or value.get_username()

    def render_outcome(self, record):
        call = record.call
        label = call.get_call_status_display() or call.get_status_numero_display()
        return format_html(
            '{} <small class="text-body-secondary">{}</small>', label, call.disposition
        )

    def render_reasons(self, record):
        return format_html_join(
            " ",
            '<span class="badge text-bg-light border">{}</span>',
            ((selection.get_reason_display(),) for selection in record.reasons.all()),
        )

    def render_verdict(self, record):
        if not record.verdict:
            return format_html('<span class="badge text-bg-secondary">{}</span>', _("À contrôler"))
        return format_html(
            '<span class="badge {}">{}</span>',
            VERDICT_BADGES[record.verdict],
            record.get_verdict_display(),
        )
