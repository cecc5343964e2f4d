"""Campaigns: list, create, edit (admins and supervisors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from telephony.forms.campaigns import CampaignForm
from telephony.models import Campaign
from users.roles import ADMIN, SUPERVISOR, role_required


@role_required(ADMIN, SUPERVISOR)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = (Campaign.objects.select_related("carrier")
                 .annotate(call_count=Count("calls")).order_by("name"))
    show = request.GET.get("show", "active")
    if show == "active":
        campaigns = campaigns.filter(is_active=True)
    page = Paginator(campaigns, 50).get_page(request.GET.get("page"))
    return render(request, "telephony/campaigns/campaign_list.html", {"page": page, "show": show})


@role_required(ADMIN, SUPERVISOR)
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        messages.success(request, f"Campaign {campaign.name} created.")
        return redirect("telephony:campaign_list")
    return render(request, "telephony/campaigns/campaign_form.html",
                  {"form": form, "title": "New campaign"})


@role_required(ADMIN, SUPERVISOR)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Campaign {campaign.name} saved.")
        return redirect("telephony:campaign_list")
    return render(request, "telephony/campaigns/campaign_form.html",
                  {"form": form, "title": f"Edit campaign {campaign.name}", "campaign": campaign})


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
]
