"""Catch the call log up with Asterisk after the event listener was away.

While the listener is disconnected (Asterisk restarting, a network cut) events are lost: a call
placed meanwhile never learns its channel and stays "queued", and a call whose channels went
away stays "answered". After every login the listener asks Asterisk which channels exist
(AMI `Status` with our call-id variable) and `calls_reconcile` applies that picture once:

- a live call whose agent leg exists gets its channel ids and moves forward (ringing, or
  answered when its leg shares a bridge with another channel);
- a live call Asterisk knew (it has a uniqueid) whose leg is gone is ended as it stood:
  completed if it had been answered, otherwise failed with a message saying why.

Queued calls with no channel are left alone: the Originate may still be on its way, and the
stale sweep (calls_expire_stale) fails them if nothing ever comes.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from telephony.asterisk.ami import AmiClient, AmiError
from telephony.models import AsteriskServer, Call
from telephony.services.call_events import (
    CALL_ID_VARIABLE,
    call_advance,
    call_finish,
)

logger = logging.getLogger(__name__)

GONE_MESSAGE = ("Asterisk no longer had this call when the event listener reconnected "
                "(Asterisk restarted or the connection was lost)")


def _call_id(channel: dict[str, Any]) -> uuid.UUID | None:
    values = channel.get("Variable", [])
    for value in values if isinstance(values, list) else [values]:
        name, _, text = str(value).partition("=")
        if name == CALL_ID_VARIABLE:
            try:
                return uuid.UUID(text)
            except ValueError:
                return None  # "(null)": the channel does not carry it
    return None


def calls_reconcile(*, server: AsteriskServer, channels: list[dict[str, Any]]) -> int:
    """Apply Asterisk's channel list (Status events) to the server's live calls; returns how
    many calls changed."""
    legs = {call_id: channel for channel in channels if (call_id := _call_id(channel))}
    # Observed rows (calls the app did not start) follow their phone's leg by Uniqueid.
    by_uniqueid = {channel.get("Uniqueid"): channel for channel in channels}
    by_bridge: dict[str, list[dict[str, Any]]] = {}
    for channel in channels:
        if channel.get("BridgeID"):
            by_bridge.setdefault(channel["BridgeID"], []).append(channel)
    changed_calls = 0
    with transaction.atomic():
        for call in Call.objects.select_for_update().filter(server=server,
                                                            status__in=Call.LIVE_STATUSES):
            leg = by_uniqueid.get(call.uniqueid) if call.observed else legs.get(call.id)
            if leg is None:
                if not call.uniqueid:
                    continue  # never reported on: the stale sweep decides
                status = Call.Status.COMPLETED if call.answered_at else Call.Status.FAILED
                changed = call_finish(call, status, error=GONE_MESSAGE)
            else:
                changed = _follow(call, leg, by_bridge)
            if changed:
                call.save(update_fields=sorted(set(changed)))
                changed_calls += 1
    return changed_calls


def _follow(call: Call, leg: dict[str, Any], by_bridge: dict[str, list[dict]]) -> list[str]:
    changed = []
    for name, key in (("channel", "Channel"), ("uniqueid", "Uniqueid"),
                      ("linkedid", "Linkedid")):
        if leg.get(key) and not getattr(call, name):
            setattr(call, name, leg[key])
            changed.append(name)
    peers = [c for c in by_bridge.get(leg.get("BridgeID") or "", []) if c is not leg]
    if peers:
        if not call.peer_channel:
            call.peer_channel = peers[0].get("Channel", "")
            changed.append("peer_channel")
        changed += call_advance(call, Call.Status.ANSWERED)
    else:
        changed += call_advance(call, Call.Status.RINGING)
    return changed


def server_reconcile(server: AsteriskServer, *, client: AmiClient | None = None) -> int:
    """Ask Asterisk for its channels and reconcile; AMI trouble is logged, never raised (the
    listener carries on, and the next login tries again)."""
    from telephony.services.asterisk import ami_config_for

    try:
        channels = (client or AmiClient(ami_config_for(server))).channels_status(
            variables=[CALL_ID_VARIABLE])
    except AmiError as exc:
        logger.warning("Could not reconcile calls of %s: %s", server.name, exc.message)
        return 0
    return calls_reconcile(server=server, channels=channels)
