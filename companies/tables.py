import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from companies.models import Campaign, Company, DoNotCallEntry, ImportBatch, ImportJob, Status

STATUS_BADGES = {
    Status.PENDING: "text-bg-secondary",
    Status.IN_PROGRESS: "text-bg-warning",
    Status.CALLBACK: "text-bg-info",
    Status.DONE: "text-bg-success",
}


class CompanyTable(tables.Table):
    name = tables.Column(
        verbose_name=_("Entreprise"), linkify=("companies:company", {"pk": tables.A("pk")})
    )
    campaign = tables.Column(verbose_name=_("Campagne"), order_by=("campaign__name",))
    phone = tables.Column(verbose_name=_("Téléphone"))
    location = tables.Column(verbose_name=_("Localisation"))
    activity = tables.Column(verbose_name=_("Activité"))
    status = tables.Column(verbose_name=_("Statut"), accessor="current_status")
    attempts = tables.Column(verbose_name=_("Tentatives"), attrs={"td": {"class": "text-end"}})
    disposition = tables.Column(verbose_name=_("Code AAPOR"))
    do_not_call = tables.Column(verbose_name=_("Ne plus appeler"), orderable=False)
    last_called_at = tables.DateTimeColumn(
        verbose_name=_("Dernier appel"), format="SHORT_DATETIME_FORMAT"
    )
    # The latest recording's health (annotated by the view: with_latest_recording).
    recording = tables.TemplateColumn(
        template_code='{% include "calls/_recording_badge.html" with '
        "health=record.latest_recording_health missing=record.latest_recording_missing %}",
        verbose_name=_("Audio"),
        orderable=False,
        empty_values=(),
    )
    actions = tables.TemplateColumn(
        template_name="companies/company_actions.html",
        verbose_name=_("Actions"),
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = Company
        fields = [
            "name",
            "campaign",
            "phone",
            "location",
            "activity",
            "status",
            "attempts",
            "disposition",
            "do_not_call",
            "last_called_at",
        ]
        row_attrs = {"id": lambda record: f"company-{record.pk}"}
        empty_text = _("Aucune entreprise ne correspond à ces filtres.")
        order_by = ("name",)

    def render_status(self, record):
        """The status as the queue sees it: a lapsed lease is no longer « En cours »."""
        badge = STATUS_BADGES.get(record.current_status, "text-bg-light")
        text = record.get_current_status_display()
        if record.is_archived:
            return format_html(
                '<span class="badge {}">{}</span> <span class="badge text-bg-dark">{}</span>',
                badge,
                text,
                _("archivée"),
            )
        if record.current_status == Status.IN_PROGRESS and record.locked_by_id:
            holder = record.locked_by.get_full_name() or record.locked_by.get_username()
            return format_html(
                '<span class="badge {}">{}</span> <small class="text-body-secondary">{}</small>',
                badge,
                text,
                holder,
            )
        return format_html('<span class="badge {}">{}</span>', badge, text)

    def render_disposition(self, record):
        return record.disposition or "—"

    def render_do_not_call(self, value):
        """Rows read with_do_not_call(): whether the number or the NIU is listed."""
        if value:
            return format_html('<span class="badge text-bg-danger">{}</span>', _("Ne plus appeler"))
        return "—"


class CampaignTable(tables.Table):
    name = tables.Column(verbose_name=_("Campagne"))
    is_active = tables.BooleanColumn(verbose_name=_("Active"))
    time_zone = tables.Column(verbose_name=_("Fuseau par défaut"))
    total = tables.Column(verbose_name=_("Entreprises"), attrs={"td": {"class": "text-end"}})
    created_at = tables.DateTimeColumn(verbose_name=_("Créée le"), format="SHORT_DATE_FORMAT")
    edit = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta:
        model = Campaign
        fields = ["name", "is_active", "time_zone", "total", "created_at"]
        empty_text = _("Aucune campagne : importez une liste d'entreprises pour en créer une.")

    def render_name(self, record):
        url = reverse("companies:contacts") + f"?campaign={record.pk}"
        return format_html('<a href="{}">{}</a>', url, record.name)

    def render_edit(self, record):
        return format_html(
            '<a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>',
            reverse("companies:campaign_edit", kwargs={"pk": record.pk}),
            _("Modifier"),
        )


class ImportBatchTable(tables.Table):
    created_at = tables.DateTimeColumn(
        verbose_name=_("Téléversé le"),
        format="SHORT_DATETIME_FORMAT",
        linkify=("companies:import_preview", {"pk": tables.A("pk")}),
    )
    original_name = tables.Column(verbose_name=_("Fichier"))
    mode = tables.Column(verbose_name=_("Mode"))
    campaign = tables.Column(
        verbose_name=_("Campagne"), empty_values=(), order_by=("campaign__name", "campaign_name")
    )
    uploaded_by = tables.Column(verbose_name=_("Par"))
    rows_total = tables.Column(verbose_name=_("Lignes"))
    rows_created = tables.Column(verbose_name=_("Créées"))
    rows_updated = tables.Column(verbose_name=_("Mises à jour"))
    rows_archived = tables.Column(verbose_name=_("Archivées"))
    rows_deleted = tables.Column(verbose_name=_("Supprimées"))
    rows_rejected = tables.Column(verbose_name=_("Rejetées"))
    applied_at = tables.Column(verbose_name=_("État"), empty_values=())

    class Meta:
        model = ImportBatch
        fields = [
            "created_at",
            "original_name",
            "mode",
            "campaign",
            "uploaded_by",
            "rows_total",
            "rows_created",
            "rows_updated",
            "rows_archived",
            "rows_deleted",
            "rows_rejected",
            "applied_at",
        ]
        empty_text = _("Aucun import pour l'instant.")

    def render_campaign(self, record):
        if record.campaign_id:
            return record.campaign.name
        return record.campaign_name or "—"

    def render_uploaded_by(self, value):
        return value.get_full_name() or value.get_username()

    def render_applied_at(self, record):
        if record.applied_at:
            return format_html('<span class="badge text-bg-success">{}</span>', _("Appliqué"))
        if record.job == ImportJob.ANALYSE:
            label = _("Analyse en cours (%(percent)s %%)") % {"percent": record.job_progress}
            return format_html('<span class="badge text-bg-info">{}</span>', label)
        if record.job == ImportJob.APPLY:
            label = _("Enregistrement en cours")
            return format_html('<span class="badge text-bg-info">{}</span>', label)
        if record.job_error and not record.rows_total:
            return format_html('<span class="badge text-bg-danger">{}</span>', _("Échec"))
        return format_html('<span class="badge text-bg-secondary">{}</span>', _("Aperçu"))


class DoNotCallTable(tables.Table):
    phone_e164 = tables.Column(verbose_name=_("Téléphone"))
    niu = tables.Column(verbose_name=_("NIU"))
    company_name = tables.Column(verbose_name=_("Entreprise"))
    reason = tables.Column(verbose_name=_("Motif"))
    source = tables.Column(verbose_name=_("Origine"))
    created_by = tables.Column(verbose_name=_("Ajouté par"), order_by=("created_by__username",))
    created_at = tables.DateTimeColumn(verbose_name=_("Le"), format="SHORT_DATETIME_FORMAT")
    removed_at = tables.Column(verbose_name=_("Retrait"), empty_values=())
    actions = tables.TemplateColumn(
        template_name="companies/do_not_call_actions.html",
        verbose_name=_("Actions"),
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = DoNotCallEntry
        fields = [
            "phone_e164",
            "niu",
            "company_name",
            "reason",
            "source",
            "created_by",
            "created_at",
            "removed_at",
        ]
        attrs = {"class": "table table-sm table-hover align-middle bg-body", "id": "dnc-table"}
        row_attrs = {"id": lambda record: f"entry-{record.pk}"}
        empty_text = _("Aucun numéro sur la liste « Ne plus appeler ».")
        order_by = ("-created_at",)

    def render_created_by(self, value):
        return value.get_full_name() or value.get_username()

    def render_removed_at(self, record):
        if record.removed_at is None:
            return "—"
        return format_html(
            "{} · {} · « {} »",
            date_format(timezone.localtime(record.removed_at), "SHORT_DATETIME_FORMAT"),
            record.removed_by.get_full_name() or record.removed_by.get_username(),
            record.removal_reason,
        )
