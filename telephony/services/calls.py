"""Call control: originate, hang up and transfer an agent's own call.

Everything a user typed is checked here before a byte goes to Asterisk: numbers are screened
character by character, then parsed with `phonenumbers`; transfer targets must be an existing
extension of the same server or a valid number (Asterisk answers "success" to a transfer or
redirect into a context or extension that does not exist, then hangs the call up).

Failures raise `CallError` (status + code + message, see docs/api.md); the views only turn it
into JSON. The Originate returns as soon as Asterisk queued it: the outcome arrives as events
(`telephony.services.call_events`), never by waiting on the action.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from telephony.asterisk.ami import AmiClient, AmiError
from telephony.asterisk.values import format_callerid
from telephony.models import Call, Campaign, IdempotentRequest, Lead, Phone
from telephony.realtime.registration import UNREACHABLE_STATUSES
from telephony.services.asterisk import ami_config_for
from telephony.services.call_events import CALL_ID_VARIABLE, call_finish
from telephony.services.dialplan import dialplan_carrier_context
from telephony.services.errors import ServiceError
from users.roles import is_supervisor

ORIGINATE_TIMEOUT_MS = 30_000  # how long the agent's phone rings
MAX_DIGITS = 20
IDEMPOTENCY_WINDOW = timedelta(minutes=10)
# A queued call that no event ever moved: the listener was down or Asterisk lost it. Long
# enough for the phone to ring out (ORIGINATE_TIMEOUT_MS) and the OriginateResponse to arrive.
STALE_QUEUED_AFTER = timedelta(seconds=90)
RECENTLY_ENDED = timedelta(seconds=60)

# What a person may type in a phone number. Everything else (CR/LF, & , | / @, letters, unicode
# digits, NUL...) is refused before parsing: phonenumbers would happily read letters as a
# keypad ("1-800-FLOWERS") and strip the rest.
_NUMBER_CHARS = frozenset("0123456789+ ()-.")
_MAX_LENGTH = 40


class CallError(ServiceError):
    """A request we answer with an error. Every call error has its own `code` (docs/api.md),
    so it comes first; `status` is the HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None,
                 *, call_id: str | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.call_id = call_id  # the call the error is about, when one was logged

    def as_dict(self) -> dict[str, str]:
        answer = super().as_dict()
        if self.call_id:
            answer["call_id"] = self.call_id
        return answer


class CallRejected(CallError):
    """We refused the request; nothing was sent to Asterisk."""


class AsteriskCallError(CallError):
    """Asterisk was unreachable, refused us, timed out, or refused the action."""

    _BY_KIND = {
        "unreachable": (502, "asterisk_unreachable"),
        "auth": (502, "asterisk_auth"),
        "timeout": (504, "asterisk_timeout"),
        "action": (502, "asterisk_refused"),
        "invalid": (400, "invalid_request"),
    }

    @classmethod
    def from_ami(cls, exc: AmiError) -> AsteriskCallError:
        status, code = cls._BY_KIND.get(exc.kind, (502, "asterisk_refused"))
        return cls(code, exc.message, status)


# --- input ---
def _screen(raw: object, *, code: str, what: str) -> str:
    if not isinstance(raw, str):
        raise CallRejected(code, f"The {what} must be a string.")
    if len(raw) > _MAX_LENGTH or not set(raw) <= _NUMBER_CHARS:
        raise CallRejected(code, f"The {what} may only contain digits, a leading +, spaces, "
                                 f"dashes, dots and brackets.")
    text = raw.strip()
    digits = sum(char.isdigit() for char in text)
    if not digits:
        raise CallRejected(code, f"Enter a {what}.")
    if "+" in text[1:]:
        raise CallRejected(code, f"The {what} may have a + only at the start.")
    if digits > MAX_DIGITS:
        raise CallRejected(code, f"The {what} has more than {MAX_DIGITS} digits.")
    return text


def _parse_number(text: str, *, code: str, what: str) -> str:
    """`+` and digits (E.164) for a number in international form, or national for
    settings.PHONE_DEFAULT_REGION. Raises CallRejected."""
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise CallRejected(code, f"That is not a valid {what}.") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise CallRejected(code, f"The {what} has an unknown country code.")
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise CallRejected(code, f"The {what} has too few or too many digits for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _extension(text: str, phone: Phone) -> Phone | None:
    """Another active extension on the agent's own server, if `text` names one."""
    if not text.isdigit() or not 2 <= len(text) <= 15:
        return None
    return Phone.objects.filter(extension=text, server_id=phone.server_id,
                                is_active=True).first()


def dial_target_resolve(raw: object, *, phone: Phone, code: str, what: str) -> str:
    """What to put in Exten: an extension of the same server as is (colleagues call each other
    by extension), otherwise the E.164 form of a phone number. Raises CallRejected."""
    text = _screen(raw, code=code, what=what)
    if text == phone.extension:
        raise CallRejected(code, "That is your own extension.")
    if _extension(text, phone) is not None:
        return text
    return _parse_number(text, code=code, what=what)


def _campaign(campaign_id: object, user: Any) -> Campaign | None:
    if campaign_id is None or campaign_id == "":
        return None
    if isinstance(campaign_id, bool) or not isinstance(campaign_id, int | str):
        raise CallRejected("invalid_campaign", "campaign_id must be a number.")
    text = str(campaign_id)
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise CallRejected("invalid_campaign", "campaign_id must be a number.")
    campaigns = Campaign.objects.filter(status__in=Campaign.OPEN_STATUSES).select_related(
        "carrier")
    if not is_supervisor(user):
        campaigns = campaigns.filter(agents=user)  # agents call for their own campaigns only
    campaign = campaigns.filter(pk=int(text)).first()
    if campaign is None:
        raise CallRejected("invalid_campaign", "No running campaign with this id is assigned "
                                               "to you.")
    return campaign


def _dial_context(campaign: Campaign | None, phone: Phone, exten: str) -> str:
    """A campaign's outside calls go out through its carrier's context; extensions and
    calls without a carrier go through the phone's own context."""
    if campaign is None or campaign.carrier is None or not exten.startswith("+"):
        return phone.context
    if not campaign.carrier.is_active:
        raise CallRejected("carrier_inactive", f"The campaign's carrier "
                                               f"{campaign.carrier.name} is switched off.", 409)
    return dialplan_carrier_context(carrier=campaign.carrier)


def _caller_id(campaign: Campaign | None, phone: Phone, *, internal: bool = False) -> str | None:
    """The CallerID of the Originate: shown on the agent's phone, and what the customer sees.

    A colleague's extension sees the phone's own caller ID. Outside numbers see the campaign's,
    else the server's default outbound caller ID: without one the carrier gets the phone's
    internal identity or "Anonymous", which many carriers reject."""
    if internal:
        source = phone
    elif campaign and (campaign.caller_id_name or campaign.caller_id_number):
        source = campaign
    elif phone.server.default_caller_id:
        return format_callerid("", phone.server.default_caller_id)
    else:
        source = phone
    return format_callerid(source.caller_id_name, source.caller_id_number)


def outbound_caller_id(*, phone: Phone, campaign: Campaign | None = None) -> str:
    """The number a customer sees when this phone calls out (the agent panel shows it)."""
    if campaign and campaign.caller_id_number:
        return campaign.caller_id_number
    return phone.server.default_caller_id or phone.caller_id_number or ""


def own_phone(user: Any) -> Phone:
    phone = Phone.objects.active_of(user)
    if phone is None:
        raise CallRejected("no_phone", "No active phone assigned", 409)
    return phone


# --- originate ---
def call_originate(*, user: Any, number: object, campaign_id: object = None,
                   idempotency_key: str | None = None) -> dict[str, str]:
    """Ring the user's own active phone, then dial `number` through the phone's context.

    Returns {"call_id", "status": "queued", "number"}; raises CallError. With an
    idempotency_key, a repeat within IDEMPOTENCY_WINDOW returns (or raises) the first answer
    and never dials again.
    """
    def run() -> dict[str, str]:
        return _originate(user=user, number=number, campaign_id=campaign_id)

    if idempotency_key is None:
        return run()
    return _once(user=user, key=idempotency_key, endpoint="originate", run=run)


def _originate(*, user: Any, number: object, campaign_id: object) -> dict[str, str]:
    _screen(number, code="invalid_number", what="phone number")
    campaign = _campaign(campaign_id, user)
    phone = own_phone(user)
    exten = dial_target_resolve(number, phone=phone, code="invalid_number", what="phone number")
    context = _dial_context(campaign, phone, exten)
    lead = (Lead.objects.filter(campaign=campaign, phone_number=exten).first()
            if campaign is not None else None)
    with transaction.atomic():
        # Serialises one user's originates (PostgreSQL, MariaDB), so two clicks at once cannot
        # both pass the "one live call" check below.
        Phone.objects.select_for_update().filter(pk=phone.pk).first()
        if _live_calls_after_expiry(user):
            raise CallRejected("call_in_progress", "You already have a call in progress.", 409)
        call = Call.objects.create(user=user, phone=phone, server=phone.server,
                                   campaign=campaign, lead=lead, number=exten,
                                   direction=Call.Direction.INTERNAL if exten.isdigit()
                                   else Call.Direction.OUTBOUND, status=Call.Status.QUEUED)
    client = AmiClient(ami_config_for(phone.server))
    refusal = None
    try:
        with client.session():  # one login for the check and the Originate
            refusal = _phone_refusal(client, phone)
            if refusal is None:
                client.originate(
                    channel=f"PJSIP/{phone.extension}", context=context, exten=exten,
                    priority=1, caller_id=_caller_id(campaign, phone, internal=exten.isdigit()),
                    timeout_ms=ORIGINATE_TIMEOUT_MS,
                    variables={CALL_ID_VARIABLE: str(call.id)}, action_id=str(call.id))
    except AmiError as exc:
        if exc.maybe_sent:
            # Asterisk may have queued it (an overloaded Asterisk answers late): the call stays
            # queued so its events can still move it, and the stale sweep fails it if none
            # come. Logging it failed would show "failed" while the agent's phone rings.
            raise AsteriskCallError(
                "asterisk_unconfirmed",
                f"{exc.message}, so the call is not confirmed. It may still ring your phone; "
                f"hang up to cancel it.", 504 if exc.kind == "timeout" else 502,
                call_id=str(call.id)) from None
        _end(call, Call.Status.FAILED, error=exc.message)
        raise AsteriskCallError.from_ami(exc) from None
    if refusal is not None:
        code, message = refusal
        _end(call, Call.Status.FAILED, error=message)
        raise CallError(code, message, 409, call_id=str(call.id))
    return {"call_id": str(call.id), "status": call.status, "number": call.number}


PHONE_UNREACHABLE = ("Asterisk cannot reach your phone right now: it did not answer Asterisk's "
                     "last check. Make sure your softphone is running and online; Asterisk "
                     "checks it again within a minute.")
PHONE_BUSY = ("Your phone is already on a call (Asterisk reports it in use): finish that call "
              "before placing another.")
# PJSIPShowEndpoint's DeviceState texts (ast_devstate_str) of a phone that is on a call.
BUSY_DEVICE_STATES = frozenset({"In use", "Busy", "Ringing", "Ring+Inuse", "On Hold"})
PHONE_NOT_REGISTERED = ("Your softphone is not registered with Asterisk: sign it in with the "
                        "settings on the My phone page, then call again.")


def _phone_refusal(client: AmiClient, phone: Phone) -> tuple[str, str] | None:
    """Why Asterisk would fail to ring the agent's phone now, as (code, message), or None.

    Asked of Asterisk (PJSIPShowEndpoint), not read from ps_contacts: after one unanswered
    qualify the contact is Unreachable for up to the qualify interval while its row stays
    and the phone re-registers, and the Originate then fails at once (docs/asterisk-behaviour.md).
    Only a read is sent before the Originate, so an AmiError here means nothing can ring."""
    try:
        details = client.pjsip_show_endpoint(phone.extension)
    except AmiError as exc:
        exc.maybe_sent = False
        if exc.kind == "action":
            exc.message = (f"Asterisk does not know extension {phone.extension} ({exc.message}); "
                           "is it reading this database? (setup_asterisk_realtime --check)")
        raise
    contacts = [d for d in details if d.get("Event") == "ContactStatusDetail"]
    if not contacts:
        return "phone_not_registered", PHONE_NOT_REGISTERED
    if all(c.get("Status") in UNREACHABLE_STATUSES for c in contacts):
        return "phone_unreachable", PHONE_UNREACHABLE
    endpoint = next((d for d in details if d.get("Event") == "EndpointDetail"), {})
    # A call the app did not see (the listener was away) still shows here: ringing the phone
    # again would be call waiting on a busy agent (transcripts/ami_endpoint_in_use.txt).
    if endpoint.get("DeviceState") in BUSY_DEVICE_STATES or _count(
            endpoint.get("ActiveChannels")) > 0:
        return "phone_busy", PHONE_BUSY
    return None


def _count(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def calls_expire_stale(*, user: Any = None) -> int:
    """Fail queued calls nothing ever reported on (the listener was down, Asterisk lost the
    action), of one user or of everyone: they must not block an agent or show "Queued" for
    ever. Called before a dial, by the status endpoints and by the event worker."""
    now = timezone.now()
    stale = Call.objects.filter(status=Call.Status.QUEUED, uniqueid="",
                                created_at__lt=now - STALE_QUEUED_AFTER)
    if user is not None:
        stale = stale.filter(user=user)
    return stale.update(
        status=Call.Status.FAILED, ended_at=now, duration=0,
        error_message="Asterisk never reported on this call (is the asterisk_events "
                      "listener running?)")


def _live_calls_after_expiry(user: Any) -> int:
    calls_expire_stale(user=user)
    return Call.objects.filter(user=user, status__in=Call.LIVE_STATUSES).count()


def call_current(*, user: Any) -> Call | None:
    """The user's live call, else the one that ended in the last minute (so a page can show
    how it ended)."""
    calls_expire_stale(user=user)
    calls = Call.objects.filter(user=user).select_related("campaign")
    return (calls.filter(status__in=Call.LIVE_STATUSES).first()
            or calls.filter(ended_at__gte=timezone.now() - RECENTLY_ENDED)
            .order_by("-ended_at").first())


def _once(*, user: Any, key: object, endpoint: str,
          run: Callable[[], dict[str, str]]) -> dict[str, str]:
    if (not isinstance(key, str) or not 1 <= len(key) <= 100
            or not all("!" <= char <= "~" for char in key)):
        raise CallRejected("invalid_request", "The Idempotency-Key header must be 1 to 100 "
                                              "printable characters without spaces.")
    cutoff = timezone.now() - IDEMPOTENCY_WINDOW
    IdempotentRequest.objects.filter(user=user, created_at__lt=cutoff).delete()
    try:
        # The unique constraint decides which of two concurrent duplicates dials.
        with transaction.atomic():
            record = IdempotentRequest.objects.create(user=user, key=key, endpoint=endpoint)
    except IntegrityError:
        first = IdempotentRequest.objects.filter(user=user, key=key, endpoint=endpoint).first()
        if first is None or first.status_code is None:
            raise CallRejected("request_in_progress", "A request with this Idempotency-Key "
                                                      "is still being processed.", 409) from None
        if first.status_code >= 400:
            raise CallError(first.response["code"], first.response["error"],
                            first.status_code, call_id=first.response.get("call_id")) from None
        return first.response
    try:
        answer = run()
    except CallError as exc:
        record.status_code, record.response = exc.status, exc.as_dict()
        record.save(update_fields=["status_code", "response"])
        raise
    except BaseException:
        record.delete()  # a bug, not an answer: let a retry run again
        raise
    record.status_code, record.response = 201, answer
    record.save(update_fields=["status_code", "response"])
    return answer


# --- hangup and transfer ---
def own_call(user: Any, call_id: object) -> Call:
    """The user's call `call_id`; another user's call is "not found" like a missing one."""
    if isinstance(call_id, uuid.UUID):
        pk = call_id
    else:
        try:
            pk = uuid.UUID(call_id) if isinstance(call_id, str) and len(call_id) <= 45 else None
        except ValueError:
            pk = None
    call = (Call.objects.filter(pk=pk, user=user).select_related("phone", "server", "campaign")
            .first() if pk else None)
    if call is None:
        raise CallRejected("not_found", "No such call.", 404)
    return call


def _live_call(user: Any, call_id: object) -> Call:
    if call_id is None or call_id == "":
        call = (Call.objects.filter(user=user, status__in=Call.LIVE_STATUSES)
                .select_related("phone", "server", "campaign").first())
        if call is None:
            raise CallRejected("no_live_call", "You have no call in progress.", 409)
        return call
    call = own_call(user, call_id)
    if not call.is_live:
        raise CallRejected("no_live_call", "This call has already ended.", 409)
    return call


def _end(call: Call, status: str, **kwargs: Any) -> Call:
    with transaction.atomic():
        # The event listener may be updating the same row: take its lock, then decide.
        locked = Call.objects.select_for_update().get(pk=call.pk)
        changed = call_finish(locked, status, **kwargs)
        if changed:
            locked.save(update_fields=sorted(set(changed)))
    for name in ("status", "ended_at", "duration", "hangup_cause", "hangup_cause_text",
                 "error_message", "transferred_to"):
        setattr(call, name, getattr(locked, name))
    return call


def call_hangup(*, user: Any, call_id: object = None) -> Call:
    """Hang up the user's live call (`call_id`, or the live one). Returns it, ended."""
    call = _live_call(user, call_id)
    if call.server is None or call.phone is None:
        return _end(call, Call.Status.CANCELLED)
    # Before any event named the channel, the phone's channels are all this call can be:
    # an agent has one call at a time. AMI reads /.../ as a regular expression.
    channel = call.channel or f"/^PJSIP/{call.phone.extension}-/"
    try:
        AmiClient(ami_config_for(call.server)).hangup(channel=channel)
    except AmiError as exc:
        if exc.kind != "action":
            raise AsteriskCallError.from_ami(exc) from None
        # "No such channel": it has ended already (events were missed); record that.
    return _end(call, Call.Status.COMPLETED, cause=16, cause_text="Normal Clearing")


def _refuse_unreachable(client: AmiClient, extension: str) -> None:
    """Refuse a transfer to an extension Asterisk cannot call now. BlindTransfer answers
    Success whatever the target, then Dial() fails at once ("Could not create dialog") and
    the customer is hung up: not registered, or every contact failed its last qualify."""
    contacts = client.endpoint_contacts(extension)
    if not contacts:
        raise CallRejected("target_unreachable", f"Extension {extension} is not registered: "
                                                 "nothing was transferred.", 409)
    if all(c.get("Status") in UNREACHABLE_STATUSES for c in contacts):
        raise CallRejected("target_unreachable", f"Asterisk cannot reach extension "
                                                 f"{extension}'s phone right now (it did not "
                                                 "answer Asterisk's last check): nothing was "
                                                 "transferred.", 409)


def call_transfer(*, user: Any, call_id: object = None, target: object) -> Call:
    """Blind-transfer the other party of the user's answered call to `target` (an extension
    of the same server or a phone number). The agent's leg then ends."""
    _screen(target, code="invalid_target", what="transfer target")
    call = _live_call(user, call_id)
    if (call.status != Call.Status.ANSWERED or not call.channel or not call.peer_channel
            or call.phone is None):
        # Without a far end (a number the dialplan answers itself) Asterisk would refuse
        # BlindTransfer with "Transfer invalid": nobody is bridged to the agent.
        raise CallRejected("call_not_answered", "Only a call answered by another party can be "
                                                "transferred.", 409)
    exten = dial_target_resolve(target, phone=call.phone, code="invalid_target",
                                what="transfer target")
    client = AmiClient(ami_config_for(call.server))
    try:
        with client.session():
            if _extension(exten, call.phone) is not None:
                _refuse_unreachable(client, exten)
            # BlindTransfer takes the transferer, our own leg: Asterisk moves its bridged peer.
            client.blind_transfer(channel=call.channel, context=call.phone.context, exten=exten)
    except AmiError as exc:
        raise AsteriskCallError.from_ami(exc) from None
    with transaction.atomic():
        Call.objects.filter(pk=call.pk, transferred_to="").update(transferred_to=exten)
    call.transferred_to = exten
    return _end(call, Call.Status.COMPLETED)
