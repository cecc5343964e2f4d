"""Django admin for the dialer: pause codes (the admin's list), and read-only views of the
agent sessions and the compliance ledger."""

from django.contrib import admin

from telephony.admin.readonly import ReadOnlyAdmin
from telephony.models import (
    AgentSession,
    AgentStateChange,
    DialAttempt,
    DialerWorker,
    PauseCode,
    PreviewSkip,
)


@admin.register(PauseCode)
class PauseCodeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(AgentSession)
class AgentSessionAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "agent", "campaign", "state", "pause_code", "ended_at",
                    "end_reason")
    list_filter = ("state", "campaign")
    search_fields = ("agent__username", "id")
    list_select_related = ("agent", "campaign", "pause_code")


@admin.register(AgentStateChange)
class AgentStateChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "session", "from_state", "to_state", "pause_code")
    list_filter = ("to_state",)
    list_select_related = ("session", "session__agent", "session__campaign")


@admin.register(DialAttempt)
class DialAttemptAdmin(ReadOnlyAdmin):
    """The ledger is append-only: the database refuses changes to sealed rows anyway."""

    list_display = ("created_at", "phone_number", "campaign_id", "status", "abandoned",
                    "amd_result", "agent_username", "ring_seconds", "disposition",
                    "carrier_name")
    list_filter = ("status", "abandoned", "amd_result")
    search_fields = ("phone_number", "id", "agent_username")
    date_hierarchy = "created_at"


@admin.register(PreviewSkip)
class PreviewSkipAdmin(ReadOnlyAdmin):
    """Leads agents skipped in preview mode, and why (nothing was dialled)."""

    list_display = ("at", "phone_number", "campaign_id", "agent_username", "reason")
    search_fields = ("phone_number", "agent_username", "reason")
    date_hierarchy = "at"


@admin.register(DialerWorker)
class DialerWorkerAdmin(ReadOnlyAdmin):
    list_display = ("name", "started_at", "last_seen_at", "servers_up")
