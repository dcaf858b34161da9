from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from companies import quotas
from companies.models import (
    Campaign,
    Company,
    CompanyPhone,
    ContactPerson,
    DoNotCallEntry,
    ImportBatch,
    PinnedNote,
    normalise_phone,
)
from core.admin import ReadOnlyAdmin


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "time_zone", "public_holidays", "created_at", "created_by"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]
    autocomplete_fields = ["created_by"]


class PhoneFormSet(BaseInlineFormSet):
    """A company's numbers in the admin: a blank normalised form is filled in; the same number
    twice is refused with a message (the database would refuse it with an error page), the
    main number included, which a new company gets in its list when it is saved."""

    def clean(self):
        super().clean()
        company = self.instance
        seen = set()
        if company._state.adding and company.phone:
            seen.add(normalise_phone(company.phone) or company.phone.strip())
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            number = (form.cleaned_data.get("number") or "").strip()
            if not number:
                continue
            if not form.cleaned_data.get("e164"):  # left blank: the number's own E.164 form
                form.instance.e164 = normalise_phone(number)
            key = form.instance.e164 or number
            if key in seen:
                form.add_error("number", _("Ce numéro est déjà dans la liste de l'entreprise."))
            seen.add(key)


class PhoneInline(admin.TabularInline):
    model = CompanyPhone
    formset = PhoneFormSet
    extra = 0
    fields = [
        "position",
        "label",
        "number",
        "e164",
        "is_dead",
        "last_disposition",
        "last_called_at",
    ]
    readonly_fields = ["last_disposition", "last_called_at"]


class PersonInline(admin.TabularInline):
    model = ContactPerson
    extra = 0
    fields = ["name", "role", "phone", "email"]


class NoteInline(admin.TabularInline):
    model = PinnedNote
    extra = 0
    fields = ["text", "pinned_by", "pinned_at", "unpinned_by", "unpinned_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "campaign",
        "phone",
        "phone_e164",
        "status",
        "attempts",
        "disposition",
        "locked_by",
        "lock_expires_at",
        "is_archived",
        "updated_at",
    ]
    list_filter = ["status", "is_archived", "campaign", "disposition", "location"]
    search_fields = ["name", "phone", "phone_e164", "niu"]
    date_hierarchy = "created_at"
    list_select_related = ["campaign", "locked_by"]
    raw_id_fields = ["campaign", "locked_by", "callback_operator"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "locked_at",
        "lock_expires_at",
        "last_called_at",
        # The fieldwork rules' columns: the zone comes from the number or the company page.
        "time_zone",
        "time_zone_chosen",
        "country",
        "appointment",
        "parts_tried",
        "conversion_at",
    ]
    actions = ["release_locks", "reopen_companies"]
    inlines = [PhoneInline, PersonInline, NoteInline]
    show_full_result_count = False  # no COUNT(*) over a million rows on every page

    @admin.action(description=_("Libérer le verrou"), permissions=["release"])
    def release_locks(self, request, queryset):
        released = sum(company.release() for company in queryset.filter(status="in_progress"))
        self.message_user(
            request,
            ngettext("%d verrou libéré.", "%d verrous libérés.", released) % released,
            messages.SUCCESS,
        )

    @admin.action(description=_("Rouvrir (remettre à appeler)"), permissions=["reopen"])
    def reopen_companies(self, request, queryset):
        reopened = sum(company.reopen() for company in queryset.filter(status="done"))
        self.message_user(
            request,
            ngettext("%d entreprise rouverte.", "%d entreprises rouvertes.", reopened) % reopened,
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        quotas.recount(obj.campaign)  # its activity or location may have moved it between cells

    def has_release_permission(self, request):
        return request.user.has_perm("companies.release_company")

    def has_reopen_permission(self, request):
        return request.user.has_perm("companies.reopen_company")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "campaign",
        "mode",
        "uploaded_by",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_archived",
        "rows_rejected",
        "created_at",
        "applied_at",
    ]
    list_filter = ["mode", "campaign"]
    search_fields = ["original_name", "campaign__name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["campaign", "uploaded_by"]
    # What the import pipeline and its jobs write: shown, never edited by hand.
    readonly_fields = [
        "created_at",
        "applied_at",
        "sample",
        "repeated_keys",
        "rejects",
        "job",
        "job_token",
        "job_options",
        "job_started_at",
        "job_heartbeat_at",
        "job_progress",
        "job_error",
    ]


@admin.register(DoNotCallEntry)
class DoNotCallEntryAdmin(ReadOnlyAdmin):
    """Read-only: entries are added and removed from the « Ne plus appeler » page, which keeps
    who did what and why."""

    list_display = ["phone_e164", "niu", "company_name", "reason", "created_by", "created_at"]
    list_filter = ["source"]
    search_fields = ["phone_e164", "niu", "company_name", "reason"]
    date_hierarchy = "created_at"
