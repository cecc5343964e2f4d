"""The agent's side of campaign calls (JSON for the agent panel and the dialer session page):
the dispositions of the call just ended, recording one with notes and a callback, and the
callbacks due. One wrap-up form (templates/telephony/agent/_wrapup.html) serves both pages:
manual calls go to api/calls/..., dialer calls (ledger attempts) to api/dialer/attempts/...."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, JsonResponse
from django.urls import path

from autodialer.input import BadInput, json_object
from telephony.models import Disposition
from telephony.services.calls import CallError, own_call
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.dialer_wrapup import attempt_disposition_record, attempt_wrapup
from telephony.services.dispositions import call_disposition_record, callbacks_due
from telephony.views.calls import api_view


@api_view(methods=("GET",))
def call_dispositions(request: HttpRequest, call_id: str) -> JsonResponse:
    try:
        call = own_call(request.user, call_id)
    except CallError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    choices = (Disposition.objects.filter(campaign_id=call.campaign_id, is_active=True)
               .values("id", "name", "policy") if call.campaign_id else [])
    lead = call.lead
    return JsonResponse({
        "call_id": str(call.id), "campaign": call.campaign.name if call.campaign else None,
        "wrapup_seconds": call.campaign.wrapup_seconds if call.campaign else 0,
        "dispositions": list(choices),
        "lead": {"name": f"{lead.first_name} {lead.last_name}".strip(), "timezone": lead.timezone,
                 "data": lead.data} if lead else None,
        "done": hasattr(call, "disposition_record"),
    })


def _callback_at(data: dict) -> datetime.datetime | None:
    raw = data.get("callback_at")
    if not raw:
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise CampaignServiceError("callback_at is a date and time.")
    try:
        return datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise CampaignServiceError("callback_at is a date and time like "
                                   "2026-06-01T14:30 (the lead's local time).") from None


@api_view(methods=("POST",))
def call_disposition(request: HttpRequest, call_id: str) -> JsonResponse:
    try:
        data = json_object(request)  # the one input layer: a JSON object, nothing else
    except BadInput as error:
        return JsonResponse({"error": error.message, "code": "invalid_request"}, status=400)
    try:
        call = own_call(request.user, call_id)
        callback_at = _callback_at(data)
        record = call_disposition_record(
            user=request.user, call=call, disposition_id=data.get("disposition_id"),
            notes=data.get("notes") or "", callback_at=callback_at,
            callback_mine=data.get("callback_for", "me") != "anyone")
    except CallError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    except CampaignServiceError as exc:
        return JsonResponse({"error": exc.message, "code": "invalid_disposition"}, status=400)
    return JsonResponse({"disposition": record.disposition.name,
                         "lead_state": record.lead.state if record.lead else None}, status=201)


@api_view(methods=("GET",))
def attempt_dispositions(request: HttpRequest, attempt_id: str) -> JsonResponse:
    """The wrap-up form's data for a dialer call the agent had (the same shape as a call's)."""
    return JsonResponse(attempt_wrapup(user=request.user, attempt_id=attempt_id))


@api_view(methods=("POST",))
def attempt_disposition(request: HttpRequest, attempt_id: str) -> JsonResponse:
    """Save the disposition of the agent's dialer call; `then` is "ready" (the default) or
    "pause" with `pause_code_id`."""
    try:
        data = json_object(request)
    except BadInput as error:
        return JsonResponse({"error": error.message, "code": "invalid_request"}, status=400)
    attempt = attempt_disposition_record(
        user=request.user, attempt_id=attempt_id, disposition_id=data.get("disposition_id"),
        notes=data.get("notes") or "", callback_at=_callback_at(data),
        callback_mine=data.get("callback_for", "me") != "anyone",
        then=data.get("then") or "ready", pause_code_id=data.get("pause_code_id"))
    return JsonResponse({"disposition": attempt.disposition}, status=201)


@api_view(methods=("GET",))
def agent_callbacks(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"callbacks": [
        {"id": callback.pk, "scheduled_at": callback.scheduled_at.isoformat(),
         "number": callback.lead.phone_number, "campaign": callback.campaign.name,
         "name": f"{callback.lead.first_name} {callback.lead.last_name}".strip(),
         "note": callback.note, "mine": callback.agent_id == request.user.pk}
        for callback in callbacks_due(user=request.user)]})


urlpatterns = [
    path("api/calls/<str:call_id>/dispositions/", call_dispositions, name="call_dispositions"),
    path("api/calls/<str:call_id>/disposition/", call_disposition, name="call_disposition"),
    path("api/dialer/attempts/<str:attempt_id>/dispositions/", attempt_dispositions,
         name="attempt_dispositions"),
    path("api/dialer/attempts/<str:attempt_id>/disposition/", attempt_disposition,
         name="attempt_disposition"),
    path("api/agent/callbacks/", agent_callbacks, name="agent_callbacks"),
]
