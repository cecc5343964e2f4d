"""Django admin for dialplan contexts: a read-mostly view; rules are edited on the Dialplan page,
whose services keep priorities contiguous and extensions_table in step."""

from django.contrib import admin

from telephony.models.dialplan import DialplanContext, DialplanExtension
from telephony.services.dialplan import context_delete, context_update, extension_delete


class DialplanExtensionInline(admin.TabularInline):
    model = DialplanExtension
    fields = ("pattern", "priority", "application", "arguments", "scaffolded")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("order", "pattern", "priority")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DialplanContext)
class DialplanContextAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "updated_at")
    search_fields = ("name", "description")
    inlines = [DialplanExtensionInline]

    def get_readonly_fields(self, request, obj=None):
        # A rename must move the rows in extensions_table: allowed only through the service.
        return ("name",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            context_update(context=obj, name=obj.name, description=obj.description)
        else:
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        context_delete(context=obj)

    def delete_queryset(self, request, queryset):
        for context in queryset:
            context_delete(context=context)


@admin.register(DialplanExtension)
class DialplanExtensionAdmin(admin.ModelAdmin):
    """Search rules across contexts. Adding and editing happen on the Dialplan page; deleting
    goes through the same service, which renumbers priorities and rewrites extensions_table
    in the same transaction (and lets a context's delete cascade to its rules)."""

    list_display = ("context", "pattern", "priority", "application", "arguments", "scaffolded")
    list_filter = ("context", "scaffolded")
    list_select_related = ("context",)
    search_fields = ("pattern", "application", "arguments")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        extension_delete(extension=obj)

    def delete_queryset(self, request, queryset):
        for extension in queryset:
            extension_delete(extension=extension)
