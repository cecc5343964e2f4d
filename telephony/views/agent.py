"""The agent panel: the page agents land on after login, to dial, watch, hang up and transfer.

The page is rendered here; `static/js/agent-panel.js` then drives the call-control JSON API
(docs/api.md) and refreshes two small pieces of this module: the registration line and the
recent-calls list. Everything shown is the logged-in user's own: their phone, their calls.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from telephony.models import Call, Phone
from telephony.realtime.registration import Registration
from telephony.services.calls import outbound_caller_id
from telephony.services.campaigns import campaigns_of_agent
from telephony.services.registration import registration_of_phone
from telephony.views.calls import api_view
from users.roles import AGENT, role_required
from users.templatetags.ui import duration_text

RECENT_CALLS = 10
DIALPAD = (("1", ""), ("2", "ABC"), ("3", "DEF"), ("4", "GHI"), ("5", "JKL"), ("6", "MNO"),
           ("7", "PQRS"), ("8", "TUV"), ("9", "WXYZ"), ("*", ""), ("0", ""), ("#", ""))
# Reversed with this id, then the script puts the real call id in its place.
_ID_PLACEHOLDER = uuid.UUID(int=0)


REGISTRATION_TEXT = {
    "unreachable": "Registered, but Asterisk cannot reach your phone right now (it did not "
                   "answer Asterisk's last check): calls cannot ring it",
    "not_registered": "Your softphone is not registered",
}


def registration_text(registration: Registration | None) -> str:
    """The panel's registration line (the script shows the same text from the JSON)."""
    if registration is None:
        return ""
    if registration.state in REGISTRATION_TEXT:
        return REGISTRATION_TEXT[registration.state]
    where = f", {registration.address}" if registration.address else ""
    return f"Registered — {registration.user_agent or 'unknown softphone'}{where}"


def transport_label(transport: str) -> str:
    """What a softphone's settings call the transport named by our ps_transports id."""
    name = transport.lower()
    for marker, label in (("wss", "WSS"), ("ws", "WS"), ("tls", "TLS"), ("tcp", "TCP")):
        if marker in name:
            return label
    return "UDP"


def time_text(when: datetime, today: date) -> str:
    """Today's calls by the time alone: an agent's list is mostly today's."""
    local = timezone.localtime(when)
    return dateformat.format(local, "H:i" if local.date() == today else "M j, H:i")


def recent_calls(user) -> list[Call]:
    calls = list(Call.objects.filter(user=user).select_related("campaign")
                 .order_by("-created_at")[:RECENT_CALLS])
    today = timezone.localdate()
    for call in calls:
        call.duration_text = duration_text(call.duration)
        call.time_text = time_text(call.created_at, today)
    return calls


def _api_urls() -> dict[str, str]:
    """The call-control endpoints, by their URL names, for the script's data attributes."""
    return {
        "originate": reverse("telephony:call_originate"),
        "hangup": reverse("telephony:call_hangup"),
        "transfer": reverse("telephony:call_transfer"),
        "current": reverse("telephony:call_current"),
        "status": reverse("telephony:call_status", args=[_ID_PLACEHOLDER]),
        "status_placeholder": str(_ID_PLACEHOLDER),
    }


def _registration_json(registration: Registration | None, problem: str) -> dict:
    if registration is None:
        return {"has_phone": False, "registered": False}
    # `reachable` false with `registered` true: Asterisk would refuse to ring the phone now.
    return {"has_phone": True, "registered": registration.registered,
            "reachable": registration.reachable, "state": registration.state,
            "source": registration.source, "problem": problem,
            "text": registration_text(registration),
            "user_agent": registration.user_agent, "address": registration.address}


@role_required(AGENT)
@require_GET
@never_cache  # the page carries the agent's SIP password (behind a reveal)
def agent_panel(request: HttpRequest) -> HttpResponse:
    phone = Phone.objects.active_of(request.user)
    registration, problem = registration_of_phone(phone)
    return render(request, "telephony/agent/panel.html", {
        "phone": phone,
        "registration": registration,
        "registration_text": registration_text(registration),
        "registration_problem": problem,
        "transport": transport_label(phone.transport) if phone else "",
        "outbound_caller_id": outbound_caller_id(phone=phone) if phone else "",
        "campaigns": campaigns_of_agent(request.user).only("id", "name"),
        "calls": recent_calls(request.user),
        "api": _api_urls(),
        "dialpad": DIALPAD,
    })


@api_view(methods=("GET",))  # JSON 401/403 for the script, never a login page
def agent_registration(request: HttpRequest) -> JsonResponse:
    """The registration line, polled while the page is idle: a softphone set up by reading
    the page flips it to "Registered" without a reload."""
    phone = Phone.objects.active_of(request.user)
    return JsonResponse(_registration_json(*registration_of_phone(phone)))


@api_view(methods=("GET",))
def agent_recent_calls(request: HttpRequest) -> HttpResponse:
    """The recent-calls list as an HTML fragment, re-fetched when a call ends."""
    return render(request, "telephony/agent/_recent_calls.html",
                  {"calls": recent_calls(request.user)})


urlpatterns = [
    path("agent/", agent_panel, name="agent_panel"),
    path("agent/registration/", agent_registration, name="agent_registration"),
    path("agent/recent-calls/", agent_recent_calls, name="agent_recent_calls"),
]
