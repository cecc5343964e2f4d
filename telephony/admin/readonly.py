"""A Django admin page that shows rows and never writes them: for what Asterisk or the dialer
records (the realtime extensions table, agent sessions, the ledger), where a hand edit would make
Asterisk or the reports disagree with what happened."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
