"""Django admin for carriers: the same form as the Carriers page; saving and deleting go through
Carrier.save()/delete(), which write and remove the realtime rows, and then ask Asterisk to
reload as the Carriers page does (services/carriers.py says why)."""

from django.contrib import admin, messages

from telephony.forms.carriers import CarrierForm
from telephony.models.carriers import Carrier
from telephony.services.carriers import carriers_asterisk_reload


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    form = CarrierForm
    list_display = ("name", "slug", "host", "port", "auth_mode", "register", "is_active", "order")
    list_filter = ("is_active", "auth_mode", "register")
    search_fields = ("name", "slug", "host")

    def save_model(self, request, obj, form, change):
        before = Carrier.objects.select_related("server").filter(pk=obj.pk).first() \
            if change else None
        super().save_model(request, obj, form, change)
        self._warn(request, carriers_asterisk_reload([before, obj]))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._warn(request, carriers_asterisk_reload([obj]))

    def delete_queryset(self, request, queryset):
        # One by one, so each carrier's realtime rows go with it; then one reload per server.
        carriers = list(queryset.select_related("server"))
        for carrier in carriers:
            carrier.delete()
        self._warn(request, carriers_asterisk_reload(carriers))

    def _warn(self, request, warnings: list[str]) -> None:
        for warning in warnings:
            self.message_user(request, warning, messages.WARNING)
