"""Campaigns: list, create, edit, the campaign page (counts, history) and status changes
(admins and supervisors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from telephony.calling.rules import Reason
from telephony.calling.selection import lead_counts
from telephony.forms.campaigns import CampaignForm
from telephony.models import AgentSession, Campaign
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.campaigns import (
    campaign_create,
    campaign_status_change,
    campaign_update,
)
from users.roles import ADMIN, SUPERVISOR, role_required

FORM = "telephony/campaigns/campaign_form.html"


def _fields(form: CampaignForm) -> dict:
    return {name: value for name, value in form.cleaned_data.items()
            if name not in ("agents", "other_carriers", "safe_harbor")}


def _save(request: HttpRequest, form: CampaignForm, campaign: Campaign | None):
    try:
        if campaign is None:
            return campaign_create(fields=_fields(form), agents=form.cleaned_data["agents"],
                                   other_carriers=form.cleaned_data["other_carriers"],
                                   user=request.user,
                                   safe_harbor=form.cleaned_data.get("safe_harbor"))
        return campaign_update(campaign=campaign, fields=_fields(form),
                               agents=form.cleaned_data["agents"],
                               other_carriers=form.cleaned_data["other_carriers"],
                               safe_harbor=form.cleaned_data.get("safe_harbor"))
    except CampaignServiceError as exc:
        form.add_error("safe_harbor" if "message" in exc.message or "WAV" in exc.message
                       else None, exc.message)
    except ValidationError as exc:
        form.add_error(None, exc)
    return None


@role_required(ADMIN, SUPERVISOR)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = (Campaign.objects.select_related("carrier")
                 .annotate(call_count=Count("calls", distinct=True)).order_by("name"))
    show = request.GET.get("show", "active")
    if show == "active":
        campaigns = campaigns.exclude(status=Campaign.Status.FINISHED)
    page = Paginator(campaigns, 50).get_page(request.GET.get("page"))
    return render(request, "telephony/campaigns/campaign_list.html", {"page": page, "show": show})


@role_required(ADMIN, SUPERVISOR)
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        campaign = _save(request, form, None)
        if campaign is not None:
            messages.success(request, f"Campaign {campaign.name} created (draft).")
            return redirect("telephony:campaign_detail", pk=campaign.pk)
    return render(request, FORM, {"form": form, "title": "New campaign"})


@role_required(ADMIN, SUPERVISOR)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignForm(request.POST or None, request.FILES or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        if _save(request, form, campaign) is not None:
            messages.success(request, f"Campaign {campaign.name} saved.")
            return redirect("telephony:campaign_detail", pk=campaign.pk)
    return render(request, FORM, {"form": form, "title": f"Edit campaign {campaign.name}",
                                  "campaign": campaign})


@role_required(ADMIN, SUPERVISOR)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("carrier__server",
                                                                 "calling_rules"), pk=pk)
    counts = lead_counts(campaign, timezone.now())
    blocked = [(Reason(code).label, code, count) for code, count in counts.items()
               if code != Reason.DIALABLE and count]
    return render(request, "telephony/campaigns/campaign_detail.html", {
        "campaign": campaign,
        "dialable": counts[Reason.DIALABLE],
        "blocked": blocked,
        "total": sum(counts.values()),
        "history": campaign.status_changes.select_related("changed_by")[:20],
        "lists": campaign.lead_lists.annotate(lead_count=Count("leads")),
        "next_statuses": [Campaign.Status(s) for s in
                          Campaign.TRANSITIONS[Campaign.Status(campaign.status)]],
        "agents": campaign.agents.order_by("username"),
        "other_carriers": campaign.other_carriers.select_related("server").order_by("name"),
    })


@role_required(ADMIN, SUPERVISOR)
@require_POST
def campaign_status(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    back = "dialer" if request.POST.get("back") == "dialer" else ""
    # Finishing cannot be undone: it asks first (confirm.html), like every destructive action.
    if request.POST.get("status") == Campaign.Status.FINISHED and not request.POST.get("confirm") \
            and Campaign.Status.FINISHED in Campaign.TRANSITIONS[Campaign.Status(campaign.status)]:
        return render(request, "confirm.html", _finish_confirmation(campaign, back))
    try:
        campaign_status_change(campaign=campaign, to_status=request.POST.get("status", ""),
                               user=request.user)
        messages.success(request, f"Campaign {campaign.name} is now "
                                  f"{campaign.get_status_display().lower()}.")
    except CampaignServiceError as exc:
        messages.error(request, exc.message)
    # The dialer page's controls come back to it; nothing else is taken from the form.
    if back:
        return redirect("telephony:campaign_dialer_live", pk=campaign.pk)
    return redirect("telephony:campaign_detail", pk=campaign.pk)


def _finish_confirmation(campaign: Campaign, back: str) -> dict:
    dialable = lead_counts(campaign, timezone.now())[Reason.DIALABLE]
    in_session = AgentSession.objects.filter(campaign=campaign, ended_at__isnull=True).count()
    items = ["Dialling stops for good: a finished campaign cannot be started or resumed."]
    if dialable:
        items.append(f"{dialable} lead(s) that could still be dialled will not be called.")
    if in_session:
        items.append(f"{in_session} agent(s) in a dialer session on it get no more calls.")
    cancel = ("telephony:campaign_dialer_live" if back else "telephony:campaign_detail")
    return {
        "title": f"Finish campaign {campaign.name}?",
        "lead": "Nothing changes until you confirm. This is what will happen:",
        "items": items, "danger": True,
        "hidden": [("status", Campaign.Status.FINISHED.value), ("back", back)],
        "action_url": reverse("telephony:campaign_status", args=[campaign.pk]),
        "confirm_label": f"Finish campaign {campaign.name}",
        "cancel_url": reverse(cancel, args=[campaign.pk]),
    }


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create_view, name="campaign_create"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/status/", campaign_status, name="campaign_status"),
]
