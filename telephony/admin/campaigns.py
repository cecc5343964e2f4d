"""Django admin for campaigns, calling rules, lead lists, leads, DNC and dispositions.

Campaign status changes go through the Campaigns page (which keeps the history); the admin is
for looking and for fixing single rows.
"""

from django.contrib import admin

from telephony.forms.campaigns import CampaignForm
from telephony.models import (
    BlockedDate,
    Callback,
    CallDisposition,
    CallingRules,
    Campaign,
    CampaignStatusChange,
    Disposition,
    DncEntry,
    Lead,
    LeadImport,
    LeadImportIssue,
    LeadList,
)


class StatusChangeInline(admin.TabularInline):
    model = CampaignStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "changed_by", "changed_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DispositionInline(admin.TabularInline):
    model = Disposition
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "status", "dial_mode", "caller_id_number", "carrier")
    list_filter = ("status", "dial_mode")
    search_fields = ("name",)
    list_select_related = ("carrier",)
    readonly_fields = ("status",)
    inlines = [DispositionInline, StatusChangeInline]


class BlockedDateInline(admin.TabularInline):
    model = BlockedDate
    extra = 0


@admin.register(CallingRules)
class CallingRulesAdmin(admin.ModelAdmin):
    list_display = ("name", "preset", "weekdays", "start_time", "end_time",
                    "max_abandon_percent", "abandon_window")
    inlines = [BlockedDateInline]


@admin.register(LeadList)
class LeadListAdmin(admin.ModelAdmin):
    list_display = ("name", "campaign", "default_region", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("campaign",)
    search_fields = ("name", "campaign__name")


class CallDispositionInline(admin.TabularInline):
    """The lead's disposition history, the agents' and the system's NODISPO, read-only:
    it is what happened, not a thing to edit here."""

    model = CallDisposition
    extra = 0
    can_delete = False
    fields = ("created_at", "outcome", "agent", "notes")
    readonly_fields = fields
    verbose_name_plural = "disposition history"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("disposition", "agent")

    @admin.display(description="disposition")
    def outcome(self, record: CallDisposition) -> str:
        return record.label


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("phone_number", "first_name", "last_name", "campaign", "state", "attempts",
                    "next_eligible_at", "timezone")
    list_filter = ("state",)
    list_select_related = ("campaign",)
    search_fields = ("phone_number", "last_name")
    raw_id_fields = ("lead_list", "lead_import", "disposition")
    inlines = [CallDispositionInline]
    show_full_result_count = False  # a COUNT(*) over 100,000s of leads on every page


@admin.register(DncEntry)
class DncEntryAdmin(admin.ModelAdmin):
    list_display = ("number", "campaign", "reason", "source", "added_by", "added_at")
    list_filter = ("source",)
    list_select_related = ("campaign", "added_by")
    search_fields = ("number",)


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("name", "campaign", "policy", "retry_minutes", "is_sale", "is_active")
    list_filter = ("policy",)
    list_select_related = ("campaign",)


@admin.register(CallDisposition)
class CallDispositionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "outcome", "lead", "agent", "campaign")
    list_filter = ("system_code",)
    list_select_related = ("disposition", "lead", "agent", "campaign")
    raw_id_fields = ("call", "lead")

    @admin.display(description="disposition", ordering="disposition__name")
    def outcome(self, record: CallDisposition) -> str:
        return record.label  # the system's NODISPO has no campaign disposition


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    list_display = ("scheduled_at", "lead", "agent", "campaign", "completed_at")
    list_select_related = ("lead", "agent", "campaign")
    raw_id_fields = ("lead",)


class LeadImportIssueInline(admin.TabularInline):
    model = LeadImportIssue
    extra = 0
    max_num = 0
    readonly_fields = ("line", "kind", "value", "reason")


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    list_display = ("original_name", "lead_list", "status", "rows_done", "imported", "rejected",
                    "created_at")
    list_filter = ("status",)
    list_select_related = ("lead_list",)


@admin.register(LeadImportIssue)
class LeadImportIssueAdmin(admin.ModelAdmin):
    list_display = ("lead_import", "line", "kind", "value", "reason")
    list_filter = ("kind",)


@admin.register(BlockedDate)
class BlockedDateAdmin(admin.ModelAdmin):
    list_display = ("date", "description", "rules")
    list_select_related = ("rules",)


@admin.register(CampaignStatusChange)
class CampaignStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("changed_at", "campaign", "from_status", "to_status", "changed_by")
    list_select_related = ("campaign", "changed_by")

    def has_add_permission(self, request) -> bool:
        return False  # the history is written by status changes only
