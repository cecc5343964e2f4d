"""Django admin for the call log and stored idempotent answers: read-only records."""

from django.contrib import admin

from telephony.models import Call, IdempotentRequest


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "number", "user", "phone", "campaign", "status", "duration",
                    "hangup_cause_text")
    list_filter = ("status", "direction", "campaign", "server")
    search_fields = ("number", "id", "uniqueid", "linkedid", "channel", "user__username")
    list_select_related = ("user", "phone", "campaign")
    date_hierarchy = "created_at"
    # The log is what Asterisk told us; editing it by hand would make it lie.
    readonly_fields = [field.name for field in Call._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "endpoint", "key", "status_code")
    list_filter = ("endpoint", "status_code")
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "key", "endpoint", "status_code", "response", "created_at")

    def has_add_permission(self, request):
        return False
