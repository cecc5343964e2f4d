"""Phones' registration as Asterisk reports it, for every page that shows one (extension list and
detail, the agent panel, My phone, the live board).

A ps_contacts row says a phone registered, not that Asterisk will call it: after one
unanswered qualify (OPTIONS) the contact is Unreachable in Asterisk's memory for up to the
qualify interval, the phone re-registers meanwhile, the row stays, and an Originate fails at
once. So each server is asked with one `PJSIPShowContacts` (all its contacts, whatever the
page size), and the ps_contacts rows are read only when Asterisk cannot be asked; the
`problem` then says so, for the page to show (docs/asterisk-behaviour.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from telephony.asterisk.ami import AmiClient, AmiError
from telephony.models import AsteriskServer, Phone
from telephony.realtime.registration import (
    FROM_ASTERISK,
    NOT_REGISTERED,
    UNREACHABLE_STATUSES,
    Registration,
    registration_status,
)
from telephony.services.asterisk import ami_config_for

# A page waits at most this long for Asterisk before showing the database's picture: a frozen
# host must not hang the extension list or every wallboard's poll for the full AMI timeout.
STATUS_TIMEOUT = 2.0
# Which contact describes a phone with several: one Asterisk can call first.
_STATUS_ORDER = {"Reachable": 0, "NonQualified": 1, "Unknown": 2}


@dataclass(frozen=True)
class Registrations:
    """Registration per extension; `problem` is why Asterisk could not be asked (then the
    entries are ps_contacts rows, which cannot tell a reachable phone from an unreachable one)."""

    by_extension: dict[str, Registration] = field(default_factory=dict)
    problem: str = ""

    def __getitem__(self, extension: str) -> Registration:
        return self.by_extension.get(extension, NOT_REGISTERED)

    def get(self, extension: str | None) -> Registration:
        return self.by_extension.get(extension or "", NOT_REGISTERED)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _rank(event: dict[str, Any]) -> tuple[int, int]:
    status = str(event.get("Status", ""))
    order = 9 if status in UNREACHABLE_STATUSES else _STATUS_ORDER.get(status, 3)
    return order, -(_int(event.get("ExpirationTime")) or 0)


def registrations_from_contacts(events: list[dict[str, Any]],
                                extensions: Iterable[str]) -> dict[str, Registration]:
    """Registration of each of `extensions` from PJSIPShowContacts' ContactList events
    (transcripts/ami_show_contacts.txt). The best contact (reachable first, then the newest)
    describes the phone; it is unreachable only when every contact is."""
    wanted = set(extensions)
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        endpoint = str(event.get("Endpoint", ""))
        if endpoint in wanted:
            by_endpoint.setdefault(endpoint, []).append(event)
    status = {}
    for endpoint, contacts in by_endpoint.items():
        best = min(contacts, key=_rank)
        expires = _int(best.get("ExpirationTime"))
        status[endpoint] = Registration(
            registered=True, contacts=len(contacts), user_agent=str(best.get("UserAgent", "")),
            via_addr=str(best.get("ViaAddr", "")), via_port=_int(best.get("ViaPort")),
            uri=str(best.get("Uri", "")),
            expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
            status=str(best.get("Status", "")), source=FROM_ASTERISK)
    return status


def server_contacts(server: AsteriskServer) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every contact of `server` as Asterisk sees it now, and its device states
    ({"PJSIP/7101": "INUSE"}), on one login; raises AmiError."""
    config = ami_config_for(server)
    client = AmiClient(replace(config, timeout=min(config.timeout, STATUS_TIMEOUT)))
    with client.session():
        return client.pjsip_show_contacts(), client.device_states()


def registrations_of(phones: Iterable[Phone]) -> Registrations:
    """The registration of each phone (its `server` should be selected with it): one AMI
    action per server; ps_contacts, in one query, for the servers that could not be asked."""
    by_server: dict[int | None, tuple[AsteriskServer | None, list[str]]] = {}
    for phone in phones:
        entry = by_server.setdefault(phone.server_id, (phone.server, []))
        entry[1].append(phone.extension)
    found: dict[str, Registration] = {}
    unasked: list[str] = []
    problems: list[str] = []
    for server, extensions in by_server.values():
        if server is None:
            unasked += extensions
            continue
        try:
            events, devices = server_contacts(server)
        except AmiError as exc:
            unasked += extensions
            problems.append(f"{server.name}: {exc.message}")
            continue
        for extension, registration in registrations_from_contacts(events, extensions).items():
            found[extension] = replace(registration,
                                       device_state=devices.get(f"PJSIP/{extension}", ""))
    if unasked:
        found.update({extension: registration for extension, registration
                      in registration_status(unasked).items() if registration.registered})
    problem = ""
    if problems:
        problem = ("Asterisk could not be asked (" + "; ".join(problems) + "), so this shows "
                   "the registrations stored in the database, which cannot tell whether "
                   "Asterisk can reach a phone right now.")
    return Registrations(by_extension=found, problem=problem)


def registration_of_phone(phone: Phone | None) -> tuple[Registration | None, str]:
    """One phone's registration and the problem asking Asterisk, if any (None: no phone)."""
    if phone is None:
        return None, ""
    registrations = registrations_of([phone])
    return registrations[phone.extension], registrations.problem
