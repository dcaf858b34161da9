from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, Listen, Recording, RecordingChunk
from core.admin import ReadOnlyAdmin


class RecordingInline(admin.TabularInline):
    model = Recording
    extra = 0
    can_delete = False
    fields = ["file", "mime_type", "size_bytes", "duration_seconds", "is_complete", "created_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(CallRecord)
class CallRecordAdmin(admin.ModelAdmin):
    list_display = [
        "company",
        "operator",
        "attempt",
        "status_numero",
        "call_status",
        "disposition",
        "created_at",
        "submitted_at",
    ]
    list_filter = ["status_numero", "call_status", "disposition", "recording_consent", "operator"]
    search_fields = ["company__name", "company__phone", "company__niu", "operator__username"]
    date_hierarchy = "created_at"
    list_select_related = ["company", "operator"]
    raw_id_fields = ["company"]
    autocomplete_fields = ["operator"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "status_marked_at",
        "recording_started_at",
        "recording_stopped_at",
        "submitted_at",
        # Consent changes only on the call form: a refusal there deletes the call's audio.
        "recording_consent",
        "consent_at",
    ]
    inlines = [RecordingInline]
    show_full_result_count = False


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "call",
        "mime_type",
        "size_bytes",
        "duration_seconds",
        "is_complete",
        "created_at",
    ]
    list_filter = ["is_complete", "mime_type"]
    search_fields = ["call__company__name"]
    date_hierarchy = "created_at"
    list_select_related = ["call__company"]
    raw_id_fields = ["call"]
    readonly_fields = ["created_at", "updated_at", "size_bytes", "chunk_count"]

    def has_delete_permission(self, request, obj=None):
        return False  # audio goes only by a refusal of consent on the call form


@admin.register(RecordingChunk)
class RecordingChunkAdmin(admin.ModelAdmin):
    list_display = ["recording", "index", "size_bytes", "created_at"]
    raw_id_fields = ["recording"]
    readonly_fields = ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Listen)
class ListenAdmin(ReadOnlyAdmin):
    """The playback log, read only: filter by user to list someone's listens."""

    list_display = ["listened_at", "user", "recording", "call_company"]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    date_hierarchy = "listened_at"
    list_select_related = ["user", "recording__call__company"]
    show_full_result_count = False

    @admin.display(description=_("entreprise"))
    def call_company(self, listen):
        return listen.recording.call.company


# Call history is never deleted, not even from the admin (nothing is ever lost).
for model_admin in (CallRecordAdmin, RecordingAdmin, RecordingChunkAdmin, ListenAdmin):
    model_admin.has_delete_permission = lambda self, request, obj=None: False
