"""The dialer's live numbers of one campaign, for supervisors (read-only)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.cache import never_cache

from telephony.models import AgentSession, Campaign
from telephony.services.dialer_live import campaign_live
from users.roles import ADMIN, SUPERVISOR, role_required


@never_cache
@role_required(ADMIN, SUPERVISOR)
def campaign_dialer_live(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    live = campaign_live(campaign)
    agents = [(label, live.agents[value]) for value, label in AgentSession.State.choices
              if value != AgentSession.State.LOGGED_OUT]
    return render(request, "telephony/dialer/campaign_live.html",
                  {"campaign": campaign, "live": live, "agents": agents,
                   "cap_percent": live.abandon_target * 100,
                   "window_percent": live.abandon_rate_window * 100,
                   "today_percent": live.abandon_rate_today * 100})


urlpatterns = [
    path("campaigns/<int:pk>/dialer/", campaign_dialer_live, name="campaign_dialer_live"),
]
