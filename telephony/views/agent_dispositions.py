"""The agent's side of campaign calls (JSON for the agent panel): the dispositions of the
call just ended, recording one with notes and a callback, and the callbacks due."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, JsonResponse
from django.urls import path

from autodialer.input import BadInput, json_object
from telephony.models import Disposition
from telephony.services.calls import CallError, own_call
from telephony.services.campaign_errors import CampaignServiceError
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


@api_view(methods=("POST",))
def call_disposition(request: HttpRequest, call_id: str) -> JsonResponse:
    try:
        data = json_object(request)  # the one input layer: a JSON object, nothing else
    except BadInput as error:
        return JsonResponse({"error": error.message, "code": "invalid_request"}, status=400)
    try:
        call = own_call(request.user, call_id)
        callback_at = None
        if data.get("callback_at"):
            raw = data["callback_at"]
            if not isinstance(raw, str) or len(raw) > 40:
                raise CampaignServiceError("callback_at is a date and time.")
            try:
                callback_at = datetime.datetime.fromisoformat(raw)
            except ValueError:
                raise CampaignServiceError("callback_at is a date and time like "
                                           "2026-06-01T14:30 (the lead's local time).") from None
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
    path("api/agent/callbacks/", agent_callbacks, name="agent_callbacks"),
]
