"""Move a Call through its states from the AMI events Asterisk sends about it.

`handle_event(server, event)` is a plain synchronous function: the `asterisk_events` worker calls
it for every event, tests call it directly. Events may come late, twice or out of order (a
listener reconnecting, two listeners during a deploy), so every change only moves a call
forward (queued < ringing < answered < an ending) and only fills fields that are still empty.

What the statuses mean (docs/call-control.md):
  queued    we sent the Originate; the agent's phone has not rung yet
  ringing   the agent's phone rings, or the agent picked up and the number is being dialled
  answered  the called party answered: both legs are bridged (answered_at is set)
  completed an answered call ended (duration = talk time)
  busy / no_answer / failed / cancelled: ended without an answer (duration 0)

How events find their call: the Originate carries our UUID as ActionID (OriginateResponse) and
as the channel variable AUTODIALER_CALL_ID (VarSet), which give us the originated leg's
channel, uniqueid and linkedid. Every later event of that leg carries its Uniqueid; the dialled
leg, created by Dial() from it, carries the same Linkedid. Today the originated leg is the
agent's phone and the dialled leg the customer's number; the dialer will originate the customer
first, so the code names the legs by how they came to be, not by who is on them.

Calls the app did not start (a softphone dialling, a carrier or a colleague calling one of our
extensions) are followed too, as `observed` rows: one per extension of ours in the call, each
following that phone's own leg by its Uniqueid (`_observe`). A phone's INVITE creates its
channel in state Ring (4) with the number dialled as Exten, while a channel Asterisk
originates starts Down (0); a phone being called is the DestChannel of a DialBegin that has a
calling channel, while Originate's own dial has none (transcripts/
ami_softphone_dials_carrier.txt, ami_softphone_dials_extension.txt). So the agent panel, the
live board and the "one live call" rule see every call the phone is on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from telephony.models import AsteriskServer, Call, Phone

CALL_ID_VARIABLE = "AUTODIALER_CALL_ID"
# The two legs of a call: the channel our Originate created, and the one Dial() created from it.
ORIGINATED = "originated"
DIALLED = "dialled"

Status = Call.Status
_RANK = {Status.QUEUED: 0, Status.RINGING: 1, Status.ANSWERED: 2}
_ENDED = 3

# OriginateResponse Reason (Asterisk's AST_CONTROL_* of the originated leg: the agent's phone).
_ORIGINATE_FAILURES = {
    "0": (Status.FAILED, "Asterisk cannot reach your phone right now"),
    "1": (Status.FAILED, "Your phone hung up before answering"),
    "3": (Status.NO_ANSWER, "Your phone did not answer"),
    "5": (Status.BUSY, "Your phone is busy"),
    "8": (Status.FAILED, "Asterisk reported congestion calling your phone"),
}
# DialEnd DialStatus of the dial from the originated leg to the number.
_DIAL_STATUSES = {
    "ANSWER": Status.ANSWERED,
    "BUSY": Status.BUSY,
    "NOANSWER": Status.NO_ANSWER,
    "CANCEL": Status.CANCELLED,
    "CONGESTION": Status.FAILED,
    "CHANUNAVAIL": Status.FAILED,
}
# Dialplan applications that answer the call themselves: a number routed to one of them (a test
# line, voicemail, a conference) is connected without any far-end leg ever answering, as in
# transcripts/ami_originate_pjsip_1001.txt (Answer, Playback, Wait, Hangup). Not Playback: a
# beep played to the agent before Dial() is common and answers nothing.
_ANSWERING_APPS = frozenset({"answer", "echo", "voicemail", "voicemailmain", "confbridge",
                             "meetme"})
_BUSY_CAUSES = {17, 21}  # user busy, call rejected
_NO_ANSWER_CAUSES = {18, 19, 20}  # no user responding, no answer, subscriber absent
_CLEARING_CAUSES = {0, 16}  # unknown, normal clearing: someone hung up
# Cause 3 on an outside call: Asterisk could not even start the Dial to the trunk ("Could not
# create dialog to invalid URI 'trunk-...'"), as it does while the trunk's qualify (OPTIONS)
# goes unanswered (issue #12, transcripts/ami_unreachable_trunk.txt).
NO_ROUTE_CAUSE = 3
CARRIER_UNREACHABLE = ("The carrier is unreachable: Asterisk would not call it (cause 3, No "
                       "route to destination). Its OPTIONS check (qualify) went unanswered; "
                       "see the carrier's health on the Carriers page.")


def rank(status: str) -> int:
    return _RANK.get(status, _ENDED)


def call_advance(call: Call, status: str, *, at: datetime | None = None) -> list[str]:
    """Move `call` forward to a live status (never back). Returns the changed fields."""
    if rank(status) <= rank(call.status) or rank(status) == _ENDED:
        return []
    call.status = status
    changed = ["status"]
    if status == Status.ANSWERED and call.answered_at is None:
        call.answered_at = at or timezone.now()
        changed.append("answered_at")
    return changed


def call_finish(call: Call, status: str, *, at: datetime | None = None,
                cause: int | None = None, cause_text: str = "",
                error: str = "") -> list[str]:
    """End a live call with `status`; on an ended call only fill what is still missing.
    Returns the changed fields (not saved)."""
    at = at or timezone.now()
    changed: list[str] = []
    if call.is_live:
        if status == Status.COMPLETED and call.answered_at is None:
            status = Status.CANCELLED  # "completed" means answered and ended
        call.status = status
        changed.append("status")
    if error and not call.error_message and call.status != Status.COMPLETED:
        # Also after the fact: the phone leg's Hangup often comes before OriginateResponse.
        call.error_message = error[:255]
        changed.append("error_message")
    if call.ended_at is None and call.status not in _RANK:
        call.ended_at = at
        call.duration = (max(int((at - call.answered_at).total_seconds()), 0)
                         if call.answered_at else 0)
        changed += ["ended_at", "duration"]
    if cause is not None and call.hangup_cause is None:
        call.hangup_cause = cause
        call.hangup_cause_text = cause_text[:80]
        changed += ["hangup_cause", "hangup_cause_text"]
    return changed


def event_wanted(event: dict[str, Any]) -> bool:
    """Could this event change a call? Decided from the event alone, without the database:
    the listener skips the rest (most events, and most Newexten/VarSet, which come for every
    dialplan step and variable of every channel)."""
    name = event.get("Event", "")
    if name not in _HANDLERS:
        return False
    if name == "Newexten":
        return _text(event, "Application").lower() in _ANSWERING_APPS
    if name == "VarSet":
        return _text(event, "Variable") == CALL_ID_VARIABLE
    return True


def handle_event(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    """Apply one AMI event to the call it is about; return that call, or None if the event
    is not about one of ours (most are not)."""
    if not event_wanted(event):
        return None
    with transaction.atomic():
        call = _HANDLERS[event["Event"]](server, event)
        observed = _observe(server, event)
    return call or observed


# --- finding the call ---
def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key, "")
    value = value[-1] if isinstance(value, list) else value
    return "" if value in ("", "<unknown>") else str(value)


def _by_id(server: AsteriskServer, value: str) -> Call | None:
    try:
        call_id = uuid.UUID(value.strip())
    except (ValueError, AttributeError):
        return None
    return Call.objects.select_for_update().filter(pk=call_id, server=server,
                                                   observed=False).first()


def _by_leg(server: AsteriskServer, event: dict[str, Any],
            prefix: str = "") -> tuple[Call | None, str]:
    """The call this event is about, and which of its legs: ORIGINATED or DIALLED."""
    uid, linked = _text(event, prefix + "Uniqueid"), _text(event, prefix + "Linkedid")
    match = Q()
    for value in {uid, linked} - {""}:
        match |= Q(uniqueid=value) | Q(linkedid=value)
    if not match:
        return None, ""
    call = (Call.objects.select_for_update().filter(match, server=server, observed=False)
            .order_by("-created_at").first())
    if call is None:
        return None, ""
    return call, ORIGINATED if uid and uid == call.uniqueid else DIALLED


def _save(call: Call, changed: list[str]) -> Call:
    if changed:
        call.save(update_fields=sorted(set(changed)))
    return call


def _fill(call: Call, **values: str) -> list[str]:
    changed = []
    for name, value in values.items():
        if value and not getattr(call, name):
            # A field wider than its column (a 300-character channel) is cut to fit, not
            # allowed to fail the save and drop the whole event.
            setattr(call, name, value[:Call._meta.get_field(name).max_length])
            changed.append(name)
    return changed


# Q.850 cause codes are 0..127; anything else is a faulty or hostile frame.
_CAUSE_RANGE = range(0, 128)


def _cause(event: dict[str, Any]) -> int | None:
    """The Hangup's cause, or None when absent or out of range (the event is still used)."""
    try:
        cause = int(_text(event, "Cause"))
    except ValueError:
        return None
    return cause if cause in _CAUSE_RANGE else None


# --- one function per event ---
def _originate_response(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call = _by_id(server, _text(event, "ActionID"))
    if call is None:
        return None
    reason = _text(event, "Reason")
    if _text(event, "Response") == "Success" or reason == "4":
        uid = _text(event, "Uniqueid")
        # An originated channel starts its own linkedid.
        changed = _fill(call, channel=_text(event, "Channel"), uniqueid=uid, linkedid=uid)
        return _save(call, changed + call_advance(call, Status.RINGING))
    status, message = _ORIGINATE_FAILURES.get(
        reason, (Status.FAILED, f"Asterisk could not place the call (reason {reason or '?'})"))
    return _save(call, call_finish(call, status, error=message))


def _var_set(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    # Only our call-id variable gets here (event_wanted).
    call = _by_id(server, _text(event, "Value"))
    if call is None:
        return None
    return _save(call, _fill(call, channel=_text(event, "Channel"),
                             uniqueid=_text(event, "Uniqueid"),
                             linkedid=_text(event, "Linkedid")))


def _new_channel(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call, leg = _by_leg(server, event)
    if call is None or leg != DIALLED or not call.is_live:
        return call
    return _save(call, _fill(call, peer_channel=_text(event, "Channel")))


def _new_state(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call, leg = _by_leg(server, event)
    if call is None:
        return None
    state = _text(event, "ChannelState")
    if state in ("4", "5", "6") and leg == ORIGINATED:
        # Ringing, or Up: the agent picked up and the number is being dialled.
        return _save(call, call_advance(call, Status.RINGING))
    if state == "6" and leg == DIALLED and call.is_live:
        return _save(call, call_advance(call, Status.ANSWERED))
    if state in ("4", "5") and leg == DIALLED:
        return _save(call, call_advance(call, Status.RINGING))
    return call


def _new_exten(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    # Only answering applications get here (event_wanted).
    call, leg = _by_leg(server, event)
    if call is None or leg != ORIGINATED or not call.is_live:
        return call
    return _save(call, call_advance(call, Status.ANSWERED))


def _dial_begin(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    if _text(event, "Uniqueid"):  # from the originated leg to the number
        call, leg = _by_leg(server, event)
        if call is None or leg != ORIGINATED:
            return call
        changed = call_advance(call, Status.RINGING)
        if call.is_live:
            changed += _fill(call, peer_channel=_text(event, "DestChannel"))
        return _save(call, changed)
    # Originate's own dial to the originated leg (the agent's phone) has no calling channel.
    call, leg = _by_leg(server, event, "Dest")
    return call if call is None else _save(call, call_advance(call, Status.RINGING))


# DialEnd DialStatus of the transferred party's dial to the transfer target.
_TRANSFER_RESULTS = {
    "ANSWER": "answered",
    "BUSY": "busy",
    "NOANSWER": "not answered",
    "CANCEL": "cancelled (the customer hung up)",
    "CONGESTION": "failed (congestion)",
    "CHANUNAVAIL": "failed (the target could not be reached)",
}


def _transferee(call: Call | None, event: dict[str, Any]) -> bool:
    """Is this event about the party our agent transferred away?"""
    return (call is not None and bool(call.transferred_to) and bool(call.peer_channel)
            and _text(event, "Channel") == call.peer_channel)


def _dial_end(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    if not _text(event, "Uniqueid"):
        return None  # the originated leg's dial: OriginateResponse tells its outcome
    call, leg = _by_leg(server, event)
    if _transferee(call, event) and not call.transfer_result:
        dial = _text(event, "DialStatus")
        result = _TRANSFER_RESULTS.get(dial, f"ended ({dial})" if dial else "")
        return _save(call, _fill(call, transfer_result=result))
    if call is None or leg != ORIGINATED:
        return call
    status = _DIAL_STATUSES.get(_text(event, "DialStatus"))
    if status is None:
        return call
    if status == Status.ANSWERED:
        return _save(call, call_advance(call, status))
    dial = _text(event, "DialStatus")
    return _save(call, call_finish(call, status, error=f"The number could not be reached "
                                                      f"({dial})" if status == Status.FAILED
                                   else ""))


def _bridge_enter(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call, _ = _by_leg(server, event)
    if call is None:
        return None
    try:
        members = int(_text(event, "BridgeNumChannels") or 0)
    except ValueError:
        members = 0
    if members >= 2:  # both parties are in: the number answered
        return _save(call, call_advance(call, Status.ANSWERED))
    return call


def _blind_transfer(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call, leg = _by_leg(server, event, "Transferer")
    if call is None or leg != ORIGINATED or _text(event, "Result") != "Success":
        return call
    return _save(call, _fill(call, transferred_to=_text(event, "Extension")[:40]))


def _hangup(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    call, leg = _by_leg(server, event)
    if call is None:
        return None
    cause = _cause(event)
    cause_text = _text(event, "Cause-txt")
    if leg == ORIGINATED:
        status = _ended_status(call, cause)
        # Outside numbers are E.164 ('+'); an extension's cause 3 is about a phone instead.
        error = (CARRIER_UNREACHABLE if cause == NO_ROUTE_CAUSE and call.number.startswith("+")
                 else "")
        return _save(call, call_finish(call, status, cause=cause, cause_text=cause_text,
                                       error=error))
    if _transferee(call, event):
        # The transferred customer's leg ended. With a cause other than normal clearing and no
        # DialEnd before it, the transfer itself failed: Asterisk could not even create the
        # dial (an unreachable phone: "No route to destination", cause 3) and hung up.
        if not call.transfer_result and cause is not None and cause not in _CLEARING_CAUSES:
            return _save(call, _fill(call, transfer_result=(
                f"failed: {cause_text or 'cause'} ({cause}); the customer was hung up")))
        return call
    # The dialled leg hung up. If it never answered, its cause says why (the originated leg,
    # which ends a moment later, finds the call ended). After an answer, the originated leg
    # decides.
    if not call.is_live or call.answered_at or cause is None or cause in _CLEARING_CAUSES:
        return call
    status = (Status.BUSY if cause in _BUSY_CAUSES else
              Status.NO_ANSWER if cause in _NO_ANSWER_CAUSES else Status.FAILED)
    return _save(call, call_finish(call, status, cause=cause, cause_text=cause_text))


def _ended_status(call: Call, cause: int | None) -> str:
    """How a call ends when its own leg hangs up with `cause`."""
    if call.answered_at or call.status == Status.ANSWERED:
        return Status.COMPLETED
    if cause in _BUSY_CAUSES:
        return Status.BUSY
    if cause in _NO_ANSWER_CAUSES:
        return Status.NO_ANSWER
    if cause is None or cause in _CLEARING_CAUSES:
        return Status.CANCELLED
    return Status.FAILED


# --- calls the app did not start (observed rows) ---
_RING = "4"  # ChannelState of a channel a phone's INVITE created


def _our_phone(server: AsteriskServer, channel: str) -> Phone | None:
    """The active extension of this server whose channel `channel` is (PJSIP/7101-0000002a)."""
    if not channel.startswith("PJSIP/") or "-" not in channel:
        return None
    extension = channel[len("PJSIP/"):].rsplit("-", 1)[0]
    if not extension.isdigit():
        return None  # trunks are PJSIP/trunk-<slug>-...
    return (Phone.objects.filter(server=server, extension=extension, is_active=True)
            .select_related("user").first())


def _owned(server: AsteriskServer, uniqueid: str) -> bool:
    """Does a row already follow this leg (an app call, or an observed one)?"""
    return Call.objects.filter(server=server, uniqueid=uniqueid).exists()


def _observed(server: AsteriskServer, uniqueid: str) -> Call | None:
    if not uniqueid:
        return None
    return (Call.objects.select_for_update()
            .filter(server=server, observed=True, uniqueid=uniqueid).first())


def _start_observed(server: AsteriskServer, phone: Phone, *, channel: str, uniqueid: str,
                    linkedid: str, number: str, direction: str, peer: str = "") -> Call:
    return Call.objects.create(
        user=phone.user, phone=phone, server=server, number=number[:24], direction=direction,
        status=Status.RINGING, observed=True, channel=channel[:128], peer_channel=peer[:128],
        uniqueid=uniqueid[:64], linkedid=(linkedid or uniqueid)[:64])


def _observe(server: AsteriskServer, event: dict[str, Any]) -> Call | None:
    """Start or move the observed row this event is about; return it (None: not one)."""
    name = event.get("Event")
    uid = _text(event, "Uniqueid")
    if name == "Newchannel":
        # A phone of ours dialling: its INVITE made this channel, in state Ring.
        if _text(event, "ChannelState") != _RING or not uid or _owned(server, uid):
            return None
        phone = _our_phone(server, _text(event, "Channel"))
        if phone is None:
            return None
        number = _text(event, "Exten")
        internal = number.isdigit() and Phone.objects.filter(
            server=server, extension=number, is_active=True).exists()
        return _start_observed(server, phone, channel=_text(event, "Channel"), uniqueid=uid,
                               linkedid=_text(event, "Linkedid"), number=number,
                               direction=Call.Direction.INTERNAL if internal
                               else Call.Direction.OUTBOUND)
    if name == "DialBegin":
        caller = _observed(server, uid)
        if caller is not None and caller.is_live:
            _save(caller, _fill(caller, peer_channel=_text(event, "DestChannel")))
        dest_uid = _text(event, "DestUniqueid")
        if not uid or not dest_uid or _owned(server, dest_uid):
            return caller  # Originate's own dial has no calling channel: an app call
        phone = _our_phone(server, _text(event, "DestChannel"))
        if phone is None:
            return caller
        from_ours = _our_phone(server, _text(event, "Channel")) is not None
        return _start_observed(
            server, phone, channel=_text(event, "DestChannel"), uniqueid=dest_uid,
            linkedid=_text(event, "DestLinkedid") or _text(event, "Linkedid"),
            number=_text(event, "CallerIDNum") or _text(event, "Exten"),
            direction=Call.Direction.INTERNAL if from_ours else Call.Direction.INBOUND,
            peer=_text(event, "Channel"))
    if name == "DialEnd":
        if _text(event, "DialStatus") != "ANSWER":
            return None  # the leg's Hangup (with its cause) ends the row
        changed = None
        for leg_uid in (uid, _text(event, "DestUniqueid")):
            call = _observed(server, leg_uid)
            if call is not None and call.is_live:
                changed = _save(call, call_advance(call, Status.ANSWERED))
        return changed
    if name == "BridgeEnter":
        call = _observed(server, uid)
        if call is None or not call.is_live:
            return call
        try:
            members = int(_text(event, "BridgeNumChannels") or 0)
        except ValueError:
            members = 0
        return _save(call, call_advance(call, Status.ANSWERED)) if members >= 2 else call
    if name == "Hangup":
        call = _observed(server, uid)
        if call is None:
            return None
        cause = _cause(event)
        return _save(call, call_finish(call, _ended_status(call, cause), cause=cause,
                                       cause_text=_text(event, "Cause-txt")))
    return None


_HANDLERS: dict[str, Callable[[AsteriskServer, dict[str, Any]], Call | None]] = {
    "OriginateResponse": _originate_response,
    "VarSet": _var_set,
    "Newchannel": _new_channel,
    "Newstate": _new_state,
    "Newexten": _new_exten,
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "BridgeEnter": _bridge_enter,
    "BlindTransfer": _blind_transfer,
    "Hangup": _hangup,
}
