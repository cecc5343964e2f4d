"""Phones' registration state, read from the ps_contacts rows Asterisk writes (we never write
them; the phone families only remove contacts Asterisk leaves behind).

These rows say a phone registered, not that Asterisk can call it: after one unanswered qualify
the contact is Unreachable in Asterisk's memory for up to the qualify interval, while the row
stays. `services/registration.py` asks Asterisk first and uses these rows only when it cannot
(docs/asterisk-behaviour.md, "Registered is not reachable")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.utils import timezone

from telephony.models.realtime import PsContact

# Where a Registration came from.
FROM_ASTERISK = "asterisk"  # PJSIPShowContacts: what Asterisk knows now, qualify included
FROM_DATABASE = "database"  # ps_contacts: registered, reachability unknown
# Contact statuses (PJSIPShowContacts' Status, res_pjsip's labels) with which Asterisk refuses
# to call the contact ("could not create dialog"). "Unavailable" is the CLI's word for it.
UNREACHABLE_STATUSES = frozenset({"Unreachable", "Unavailable"})


@dataclass(frozen=True)
class Registration:
    """A phone's registration: from Asterisk (with the qualify status of its contacts) or,
    when Asterisk could not be asked, from the ps_contacts rows it wrote."""

    registered: bool
    contacts: int = 0
    user_agent: str = ""
    via_addr: str = ""
    via_port: int | None = None
    uri: str = ""
    expires_at: datetime | None = None
    # Asterisk's qualify status of the best contact: Reachable, NonQualified (qualify off),
    # Unknown (not checked yet), Unreachable; "" when read from the database.
    status: str = ""
    source: str = FROM_DATABASE
    # DeviceStateList's state of PJSIP/<extension> (NOT_INUSE, INUSE, RINGING, ...): whether
    # the phone is on a call, however the call started; "" when unknown.
    device_state: str = ""

    @property
    def unreachable(self) -> bool:
        """Registered, but Asterisk will not call it: every contact failed its last qualify."""
        return self.registered and self.status in UNREACHABLE_STATUSES

    @property
    def reachable(self) -> bool:
        """Registered and Asterisk would call it (as far as anyone can tell)."""
        return self.registered and not self.unreachable

    @property
    def state(self) -> str:
        """One word for pages and the API: reachable, registered (not qualified, or read from
        the database), unreachable, not_registered."""
        if not self.registered:
            return "not_registered"
        if self.unreachable:
            return "unreachable"
        return "reachable" if self.status == "Reachable" else "registered"

    @property
    def address(self) -> str:
        if not self.via_addr:
            return ""
        return f"{self.via_addr}:{self.via_port}" if self.via_port else self.via_addr


NOT_REGISTERED = Registration(registered=False)


def registration_status(extensions: Iterable[str]) -> dict[str, Registration]:
    """Registration of each extension, from ps_contacts in ONE query (for any page size).

    A contact whose expiration time has passed does not count: Asterisk normally prunes those,
    but rows outlive an Asterisk that stopped. The most recent contact describes the phone.
    """
    extensions = list(dict.fromkeys(extensions))
    status = {extension: NOT_REGISTERED for extension in extensions}
    if not extensions:
        return status
    now = int(timezone.now().timestamp())
    contacts = (
        PsContact.objects.filter(endpoint__in=extensions, expiration_time__gt=now)
        .order_by("endpoint", "-expiration_time")
        .values_list("endpoint", "user_agent", "via_addr", "via_port", "uri", "expiration_time")
    )
    for endpoint, user_agent, via_addr, via_port, uri, expires in contacts:
        current = status.get(endpoint)
        if current is None:
            continue
        if current.registered:
            status[endpoint] = replace(current, contacts=current.contacts + 1)
            continue
        status[endpoint] = Registration(
            registered=True, contacts=1, user_agent=user_agent or "", via_addr=via_addr or "",
            via_port=via_port, uri=uri or "",
            expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        )
    return status
