from django.contrib import admin

from core.models import Profile


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model that only the app's own pages write (they keep who did what and why): the admin
    shows it and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
