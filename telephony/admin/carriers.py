"""Django admin for carriers: the same form as the Carriers page; saving and deleting go through
Carrier.save()/delete(), which write and remove the realtime rows."""

from django.contrib import admin

from telephony.forms.carriers import CarrierForm
from telephony.models.carriers import Carrier


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    form = CarrierForm
    list_display = ("name", "slug", "host", "port", "auth_mode", "register", "is_active", "order")
    list_filter = ("is_active", "auth_mode", "register")
    search_fields = ("name", "slug", "host")

    def delete_queryset(self, request, queryset):
        # One by one, so each carrier's realtime rows go with it.
        for carrier in queryset:
            carrier.delete()
