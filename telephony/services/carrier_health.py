"""A carrier's health as its Asterisk server reports it: is the trunk reachable (qualify status
and round-trip time of its contact, AMI PJSIPShowEndpoint), and is its outbound registration
registered (PJSIPShowRegistrationsOutbound). Frames: transcripts/ami_outbound_registration.txt.

Read-only and soft: a server that cannot be asked gives every carrier on it the same
"Asterisk could not be asked: ..." line, never an exception, within HEALTH_TIMEOUT seconds per
server (one AMI login each), so the carrier pages stay quick when Asterisk is down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from telephony.asterisk.ami import AmiClient, AmiError
from telephony.models.carriers import Carrier
from telephony.realtime.carriers import carrier_object_id
from telephony.services.asterisk import ami_config_for

HEALTH_TIMEOUT = 3.0
# ContactStatusDetail `Status` -> what the page says.
REACHABILITY = {
    "Reachable": "Reachable",
    "Unreachable": "Unreachable",
    "NonQualified": "Not qualified (qualify off, or not yet checked)",
    "Unknown": "Unknown (not checked yet)",
    "Created": "Unknown (not checked yet)",
    "Removed": "Removed",
}


@dataclass(frozen=True)
class CarrierHealth:
    """`error` set means Asterisk could not be asked; the rest is then empty."""

    error: str = ""
    contact_status: str = ""  # Asterisk's word: Reachable, Unreachable, NonQualified, ...
    rtt_ms: float | None = None
    registration: str = ""  # Registered, Unregistered, Rejected, ...; "" if it does not register
    known: bool = True  # Asterisk has the trunk's endpoint

    @property
    def reachability(self) -> str:
        if not self.known:
            return "Asterisk has no such endpoint"
        if not self.contact_status:
            return "No contact"
        return REACHABILITY.get(self.contact_status, self.contact_status)

    @property
    def reachable(self) -> bool:
        return self.contact_status == "Reachable"


def _rtt_ms(value: object) -> float | None:
    try:
        return round(int(str(value)) / 1000, 1)
    except ValueError:  # "N/A" until the first qualify answer
        return None


def _endpoint_health(client: AmiClient, carrier: Carrier) -> CarrierHealth:
    try:
        contacts = client.endpoint_contacts(carrier_object_id(carrier.slug))
    except AmiError as exc:
        if exc.kind != "action":
            raise
        return CarrierHealth(known=False)  # "Unable to retrieve endpoint trunk-..."
    if not contacts:
        return CarrierHealth()
    contact = contacts[0]  # a trunk has one static contact (max_contacts 1)
    return CarrierHealth(contact_status=str(contact.get("Status", "")),
                         rtt_ms=_rtt_ms(contact.get("RoundtripUsec", "")))


def _registers(carrier: Carrier) -> bool:
    return carrier.uses_credentials and carrier.register


def carriers_health(carriers: Iterable[Carrier]) -> dict[int, CarrierHealth]:
    """{carrier pk: health} for the active carriers among `carriers` (inactive ones have no
    rows in Asterisk and are left out). One AMI session per server."""
    by_server: dict[int, list[Carrier]] = {}
    for carrier in carriers:
        if carrier.is_active:
            by_server.setdefault(carrier.server_id, []).append(carrier)
    result: dict[int, CarrierHealth] = {}
    for group in by_server.values():
        result.update(_server_health(group))
    return result


def _server_health(carriers: list[Carrier]) -> dict[int, CarrierHealth]:
    server = carriers[0].server
    config = dataclasses.replace(ami_config_for(server),
                                 timeout=min(settings.ASTERISK_TIMEOUT, HEALTH_TIMEOUT))
    client = AmiClient(config)
    try:
        with client.session():
            registrations = {}
            if any(_registers(c) for c in carriers):
                registrations = {str(r.get("ObjectName", "")): str(r.get("Status", ""))
                                 for r in client.outbound_registrations()}
            result = {}
            for carrier in carriers:
                health = _endpoint_health(client, carrier)
                if _registers(carrier):
                    state = registrations.get(carrier_object_id(carrier.slug),
                                              "Not loaded (Asterisk has no such registration)")
                    health = dataclasses.replace(health, registration=state)
                result[carrier.pk] = health
            return result
    except AmiError as exc:
        failed = CarrierHealth(error=f"Asterisk could not be asked: {exc.message}")
        return {carrier.pk: failed for carrier in carriers}


def carrier_health(carrier: Carrier) -> CarrierHealth | None:
    """The carrier's health, or None for an inactive carrier (nothing in Asterisk to ask)."""
    return carriers_health([carrier]).get(carrier.pk)
