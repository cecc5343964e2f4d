"""What an agent in a dialer session sees: their state, and the customer the dialer gave them
(the screen pop), read in a fixed number of queries so the push stream can ask often.

`session_screen(agent)` is the one source for the session page's first render, its JSON and
its server-sent event stream (views/dialer.py), so the three never disagree.
"""

from __future__ import annotations

from typing import Any

from telephony.dialer.preview import preview_reserved
from telephony.dialer.sessions import wrapup_needs_disposition
from telephony.models import (
    AgentSession,
    CallDisposition,
    Campaign,
    DialAttempt,
    Disposition,
    Lead,
)

State = AgentSession.State
PREVIOUS_SHOWN = 5
# States in which the agent has a customer in front of them (a preview call being dialled,
# talking, then writing it up).
WITH_CUSTOMER = (State.RESERVED, State.ON_CALL, State.WRAP_UP)


def _label(code: str) -> str:
    """A disposition as the agent reads it: the system's NODISPO in words."""
    return Disposition.NO_DISPOSITION_LABEL if code == Disposition.NO_DISPOSITION else code


def _lead(lead: Lead, current_attempt: DialAttempt | None) -> dict[str, Any]:
    earlier = (DialAttempt.objects.filter(lead_id=lead.pk)
               .exclude(pk=current_attempt.pk if current_attempt else None)
               .order_by("-created_at")
               .values("created_at", "status", "disposition", "agent_username")
               [:PREVIOUS_SHOWN])
    notes = (CallDisposition.objects.filter(lead=lead).exclude(notes="")
             .order_by("-created_at").values("created_at", "notes", "disposition__name",
                                             "system_code")
             [:PREVIOUS_SHOWN])
    return {
        "id": lead.pk, "name": f"{lead.first_name} {lead.last_name}".strip(),
        "number": lead.phone_number, "timezone": lead.timezone,
        "data": lead.data or {}, "attempts": lead.attempts,
        "list": lead.lead_list.name if lead.lead_list_id else "",
        "previous": [{"at": row["created_at"].isoformat(), "status": row["status"],
                      "disposition": _label(row["disposition"]),
                      "agent": row["agent_username"]}
                     for row in earlier],
        "notes": [{"at": row["created_at"].isoformat(), "notes": row["notes"],
                   "disposition": row["disposition__name"] or _label(row["system_code"])}
                  for row in notes],
    }


def session_screen(agent) -> dict[str, Any]:
    """{"session": None} without a live session; else its state and, while the agent is with
    a customer, the customer's lead; in a preview campaign, while ready, the lead reserved
    for them to dial or skip (`preview`). `version` changes whenever anything shown changes."""
    session = (AgentSession.objects.filter(agent=agent, ended_at__isnull=True)
               .select_related("campaign", "pause_code").first())
    if session is None:
        return {"session": None, "version": "none"}
    customer = None
    if session.state in WITH_CUSTOMER and session.attempt_id:
        attempt = DialAttempt.objects.filter(pk=session.attempt_id).first()
        lead = (Lead.objects.select_related("lead_list").filter(pk=attempt.lead_id).first()
                if attempt and attempt.lead_id else None)
        if attempt is not None:
            customer = {"attempt_id": str(attempt.pk), "number": attempt.phone_number,
                        "connected_at": attempt.connected_at.isoformat()
                        if attempt.connected_at else None,
                        "lead": _lead(lead, attempt) if lead else None}
    preview = None
    if (session.state == State.READY and session.campaign
            and session.campaign.dial_mode == Campaign.DialMode.PREVIEW):
        lead = preview_reserved(session)
        preview = {"lead": _lead(lead, None)} if lead else {"lead": None}
    return {
        "preview": preview,
        "session": {"id": str(session.pk), "state": session.state,
                    "state_label": session.get_state_display(),
                    "since": session.state_since.isoformat(),
                    "pause": session.pause_code.name if session.pause_code else "",
                    "campaign": session.campaign.name if session.campaign else "",
                    "phone_answered": session.connected_at is not None,
                    # Ready and Pause are refused until the disposition is saved: not offered.
                    "disposition_required": (session.state == State.WRAP_UP
                                             and wrapup_needs_disposition(session)),
                    "mode": session.campaign.dial_mode if session.campaign else ""},
        "customer": customer,
        "version": f"{session.pk}:{session.state}:{session.state_since.timestamp()}:"
                   f"{session.attempt_id}:"
                   f"{preview['lead']['id'] if preview and preview['lead'] else ''}",
    }
