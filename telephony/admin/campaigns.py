"""Django admin for campaigns (the same form as the Campaigns page)."""

from django.contrib import admin

from telephony.forms.campaigns import CampaignForm
from telephony.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "is_active", "caller_id_name", "caller_id_number", "carrier")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("carrier",)
