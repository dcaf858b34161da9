from django.contrib import admin

from core.admin import ReadOnlyAdmin
from quality.models import Criterion, CriterionResult, ReviewItem, ReviewPolicy, Selection


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "campaign",
        "sample_percent",
        "min_recording_seconds",
        "no_recording_percent",
        "short_call_seconds",
        "short_run_length",
    ]
    raw_id_fields = ["campaign"]


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["label", "campaign", "is_eliminatory", "position", "is_active"]
    list_filter = ["campaign", "is_eliminatory", "is_active"]


class SelectionInline(admin.TabularInline):
    model = Selection
    extra = 0
    can_delete = False
    readonly_fields = ["reason", "detail", "created_at"]


class CriterionResultInline(admin.TabularInline):
    model = CriterionResult
    extra = 0
    can_delete = False
    readonly_fields = ["criterion", "passed"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    """Read only here: reviews are written from the review page (/controle/)."""

    list_display = ["call", "operator", "campaign", "day", "verdict", "reviewer", "reviewed_at"]
    list_filter = ["verdict", "campaign", "reasons__reason"]
    list_select_related = ["call__company", "operator", "campaign", "reviewer"]
    date_hierarchy = "created_at"
    inlines = [SelectionInline, CriterionResultInline]
    show_full_result_count = False
