"""Django admin for Asterisk servers: passwords are never shown, blank keeps the stored one."""

from django.contrib import admin, messages

from telephony.forms.servers import AsteriskServerForm
from telephony.models import AsteriskServer
from telephony.services.servers import ServerInUseError, server_delete


@admin.register(AsteriskServer)
class AsteriskServerAdmin(admin.ModelAdmin):
    form = AsteriskServerForm
    list_display = ("name", "host", "ami_host", "ari_host", "is_active", "connection_status",
                    "last_checked_at")
    list_filter = ("is_active", "connection_status")
    search_fields = ("name", "host", "ami_host", "ari_host")
    readonly_fields = ("connection_status", "connection_message", "asterisk_version",
                       "last_checked_at", "created_at", "updated_at")

    def delete_model(self, request, obj):
        try:
            server_delete(server=obj)
        except ServerInUseError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request, queryset):
        for server in queryset:
            self.delete_model(request, server)
