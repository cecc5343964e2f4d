"""Django admin for the tables Asterisk reads: any PJSIP option can be set here.

ps_contacts is Asterisk's own (it writes a row on every REGISTER), so it is read-only, and so is
extensions_table: its rows are the Dialplan page's rules, written only by the dialplan services
after the rule grammar of dialplan_syntax.py has accepted them.
Rows of an extension are rewritten from its Phone on each save; columns the Phone does not
manage (everything but the ones in telephony/realtime/phones.py) keep what is set here.
Every value saved here passes the same check as the rows the app writes (no ';', '^' or line
break, which Asterisk's ODBC layer would split or decode; the column's width).
"""

from django import forms
from django.contrib import admin

from telephony.admin.readonly import ReadOnlyAdmin
from telephony.models import (
    ExtensionsTable,
    PsAor,
    PsAuth,
    PsContact,
    PsDomainAlias,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)


class RealtimeRowForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and (set(value) & set(";^\r\n")
                                           or any(not ch.isprintable() for ch in value)):
                self.add_error(name, "No ';', '^', line breaks or control characters: "
                                     "Asterisk's realtime driver splits values on ';' and "
                                     "decodes '^' sequences.")
        return cleaned


class RealtimeAdmin(admin.ModelAdmin):
    form = RealtimeRowForm


@admin.register(PsEndpoint)
class PsEndpointAdmin(RealtimeAdmin):
    list_display = ("id", "context", "transport", "aors", "auth", "allow", "callerid")
    search_fields = ("id", "callerid", "context")
    list_filter = ("context", "transport")


@admin.register(PsAuth)
class PsAuthAdmin(RealtimeAdmin):
    list_display = ("id", "auth_type", "username")
    search_fields = ("id", "username")


@admin.register(PsAor)
class PsAorAdmin(RealtimeAdmin):
    list_display = ("id", "max_contacts", "remove_existing", "qualify_frequency")
    search_fields = ("id",)


@admin.register(PsContact)
class PsContactAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "uri", "user_agent", "via_addr", "via_port",
                    "expiration_time")
    search_fields = ("id", "endpoint", "uri", "user_agent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PsEndpointIdIp)
class PsEndpointIdIpAdmin(RealtimeAdmin):
    list_display = ("id", "endpoint", "match")
    search_fields = ("id", "endpoint", "match")


@admin.register(PsRegistration)
class PsRegistrationAdmin(RealtimeAdmin):
    list_display = ("id", "server_uri", "client_uri", "transport", "endpoint")
    search_fields = ("id", "server_uri", "client_uri")


@admin.register(PsDomainAlias)
class PsDomainAliasAdmin(RealtimeAdmin):
    list_display = ("id", "domain")
    search_fields = ("id", "domain")


@admin.register(ExtensionsTable)
class ExtensionsTableAdmin(ReadOnlyAdmin):
    list_display = ("context", "exten", "priority", "app", "appdata")
    list_filter = ("context",)
    search_fields = ("context", "exten", "app", "appdata")
    ordering = ("context", "exten", "priority")
