"""Phones' registration state, read from the ps_contacts rows Asterisk writes (we never write
them; the phone families only remove contacts Asterisk leaves behind)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.utils import timezone

from telephony.models.realtime import PsContact


@dataclass(frozen=True)
class Registration:
    """A phone's registration, read from the ps_contacts rows Asterisk writes."""

    registered: bool
    contacts: int = 0
    user_agent: str = ""
    via_addr: str = ""
    via_port: int | None = None
    uri: str = ""
    expires_at: datetime | None = None

    @property
    def address(self) -> str:
        if not self.via_addr:
            return ""
        return f"{self.via_addr}:{self.via_port}" if self.via_port else self.via_addr


NOT_REGISTERED = Registration(registered=False)


def registration_of(extension: str) -> Registration:
    """One extension's registration (the phone's page, the agent panel, My phone)."""
    return registration_status([extension])[extension]


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
