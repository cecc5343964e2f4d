"""Phones' registration as Asterisk reports it, for every page that shows one (extension list and
detail, the agent panel, My phone, the live board).

A ps_contacts row says a phone registered, not that Asterisk will call it: after one
unanswered qualify (OPTIONS) the contact is Unreachable in Asterisk's memory for up to the
qualify interval, the phone re-registers meanwhile, the row stays, and an Originate fails at
once. So each server is asked with one `PJSIPShowContacts` (all its contacts, whatever the
page size), and the ps_contacts rows are read only when Asterisk cannot be asked; the
`problem` then says so, for the page to show (docs/asterisk-behaviour.md).

A page may accept an answer up to `max_age` seconds old (the extensions list does, with
REGISTRATION_CACHE_SECONDS): each server's answer, or its failure, is kept in Django's cache
as a `Snapshot` with the time it was taken, shared by every request and admin, and the page
says how old it is. A login costs a new thread and event loop and a round trip (about 14 ms);
a 500-row page, or ten admins paging at once, need not pay it on every click.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

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
    # When the oldest answer used was taken (time.time()); None: no server was asked.
    asked_at: float | None = None

    @property
    def age(self) -> int | None:
        """Seconds since the oldest answer shown was taken (0: just now)."""
        return None if self.asked_at is None else max(0, int(time.time() - self.asked_at))

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
                                extensions: Iterable[str] | None = None
                                ) -> dict[str, Registration]:
    """Registration of each of `extensions` (None: every endpoint with a contact) from
    PJSIPShowContacts' ContactList events (transcripts/ami_show_contacts.txt). The best contact
    (reachable first, then the newest) describes the phone; it is unreachable only when every
    contact is."""
    wanted = None if extensions is None else set(extensions)
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        endpoint = str(event.get("Endpoint", ""))
        if wanted is None or endpoint in wanted:
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


@dataclass(frozen=True)
class Snapshot:
    """One server's answer: every registered endpoint (device state folded in), or `problem`
    when it could not be asked; `asked_at` is time.time() when it was taken."""

    asked_at: float
    by_extension: dict[str, Registration] = field(default_factory=dict)
    problem: str = ""


def _snapshot_key(server: AsteriskServer) -> str:
    # updated_at: an edited server (another AMI address or password) is asked afresh.
    stamp = server.updated_at.timestamp() if server.updated_at else 0
    return f"registrations:{server.pk}:{stamp}"


def _ask(server: AsteriskServer, extensions: Iterable[str] | None = None) -> Snapshot:
    """Ask `server` now: the registration of `extensions` (None: every registered endpoint)."""
    asked_at = time.time()
    try:
        events, devices = server_contacts(server)
    except AmiError as exc:
        return Snapshot(asked_at=asked_at, problem=f"{server.name}: {exc.message}")
    return Snapshot(asked_at=asked_at, by_extension={
        extension: replace(registration, device_state=devices.get(f"PJSIP/{extension}", ""))
        for extension, registration in registrations_from_contacts(events, extensions).items()})


def server_snapshot(server: AsteriskServer, *, max_age: float) -> Snapshot:
    """What `server` reports, taken at most `max_age` seconds ago: the cached snapshot, or a
    new one (an answer or a failure) that the next pages share."""
    key = _snapshot_key(server)
    cached = cache.get(key)
    if isinstance(cached, Snapshot) and time.time() - cached.asked_at <= max_age:
        return cached
    snapshot = _ask(server)
    # Kept a little longer than any reader accepts; readers check the age themselves.
    cache.set(key, snapshot, timeout=max(60, int(max_age) * 2))
    return snapshot


def registrations_by_server(groups: Iterable[tuple[AsteriskServer | None, list[str]]],
                            *, max_age: float = 0) -> Registrations:
    """The registration of each extension, grouped by its server: one AMI login per server
    (none when its snapshot is at most `max_age` seconds old); ps_contacts, in one query, for
    the servers that could not be asked."""
    found: dict[str, Registration] = {}
    unasked: list[str] = []
    problems: list[str] = []
    oldest: float | None = None
    for server, extensions in groups:
        if server is None:
            unasked += extensions
            continue
        # max_age 0 (one phone's page, the agent panel's poll): ask now, for these phones only.
        snapshot = (server_snapshot(server, max_age=max_age) if max_age > 0
                    else _ask(server, extensions))
        oldest = snapshot.asked_at if oldest is None else min(oldest, snapshot.asked_at)
        if snapshot.problem:
            unasked += extensions
            problems.append(snapshot.problem)
            continue
        for extension in extensions:
            registration = snapshot.by_extension.get(extension)
            if registration is not None:
                found[extension] = registration
    if unasked:
        found.update({extension: registration for extension, registration
                      in registration_status(unasked).items() if registration.registered})
    problem = ""
    if problems:
        problem = ("Asterisk could not be asked (" + "; ".join(problems) + "), so this shows "
                   "the registrations stored in the database, which cannot tell whether "
                   "Asterisk can reach a phone right now.")
    return Registrations(by_extension=found, problem=problem, asked_at=oldest)


def registrations_of(phones: Iterable[Phone], *, max_age: float = 0) -> Registrations:
    """The registration of each phone (its `server` should be selected with it)."""
    by_server: dict[int | None, tuple[AsteriskServer | None, list[str]]] = {}
    for phone in phones:
        entry = by_server.setdefault(phone.server_id, (phone.server, []))
        entry[1].append(phone.extension)
    return registrations_by_server(by_server.values(), max_age=max_age)


def registration_of_phone(phone: Phone | None) -> tuple[Registration | None, str]:
    """One phone's registration and the problem asking Asterisk, if any (None: no phone)."""
    if phone is None:
        return None, ""
    registrations = registrations_of([phone])
    return registrations[phone.extension], registrations.problem
