"""A carrier's (SIP trunk's) realtime rows: ps_endpoints, ps_aors, ps_auths, ps_registrations and
ps_endpoint_id_ips, all under one id, `trunk-<slug>`.

The id always contains letters and Phone extensions are digits only, so a trunk can never take
an extension's rows. Ids are lowercase: MariaDB matches endpoint ids case-insensitively but AOR
ids case-sensitively (docs/asterisk-behaviour.md). A carrier's rows are rewritten as a whole
(delete, then insert) in one transaction, so columns the carrier no longer sets go back to NULL
(Asterisk's default).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from telephony.models.realtime import (
    PsAor,
    PsAuth,
    PsContact,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)
from telephony.realtime.rows import realtime_row_check

if TYPE_CHECKING:
    from telephony.models.carriers import Carrier

ID_PREFIX = "trunk-"
# Inbound calls from a carrier start in this context; CARRIER_INBOUND_CONTEXT overrides it.
DEFAULT_INBOUND_CONTEXT = "from-trunk"

TABLES: dict[str, type] = {
    "ps_endpoints": PsEndpoint,
    "ps_aors": PsAor,
    "ps_auths": PsAuth,
    "ps_registrations": PsRegistration,
    "ps_endpoint_id_ips": PsEndpointIdIp,
}

# Outbound registration: keep retrying (a carrier that is down for an hour comes back by itself).
REGISTRATION_EXPIRATION = 3600
REGISTRATION_RETRY_INTERVAL = 60
REGISTRATION_FORBIDDEN_RETRY_INTERVAL = 300
REGISTRATION_FATAL_RETRY_INTERVAL = 300
REGISTRATION_MAX_RETRIES = 10000
REGISTRATION_MAX_INITIAL_DELAY = 1


def carrier_object_id(slug: str) -> str:
    """The id of every realtime object of the carrier with this slug."""
    return ID_PREFIX + slug.lower()


def carrier_object_ids(carrier: Carrier) -> list[str]:
    """The ids the carrier's rows have (or would have); one id, shared by every table."""
    return [carrier_object_id(carrier.slug)]


def inbound_context() -> str:
    return getattr(settings, "CARRIER_INBOUND_CONTEXT", DEFAULT_INBOUND_CONTEXT)


def _uri_host(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def carrier_realtime_rows(carrier: Carrier) -> dict[str, list[dict]]:
    """The rows an active carrier needs, table by table (only the columns it sets)."""
    object_id = carrier_object_id(carrier.slug)
    credentials = carrier.uses_credentials
    target = f"{_uri_host(carrier.host)}:{carrier.port}"
    endpoint = {
        "id": object_id,
        "transport": carrier.transport,
        "aors": object_id,
        "context": inbound_context(),
        "disallow": "all",
        "allow": carrier.codecs,
        "direct_media": "no",
        "force_rport": "yes",
        "rtp_symmetric": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
        "outbound_auth": object_id if credentials else None,
        "from_user": carrier.from_user or None,
        "from_domain": carrier.from_domain or None,
        # Device state shows the trunk busy at its limit; the scaffolded dialplan enforces it.
        "device_state_busy_at": carrier.max_channels or None,
    }
    rows: dict[str, list[dict]] = {
        "ps_endpoints": [endpoint],
        "ps_aors": [{
            "id": object_id,
            # A static contact; a ';transport=' parameter cannot be written (';' splits realtime
            # values), the endpoint's transport decides instead.
            "contact": f"sip:{target}",
            "max_contacts": 1,
            "remove_existing": "yes",
            # 0 = no OPTIONS (Asterisk then dials the contact whatever its state). Written
            # as is, so the row says "off" rather than relying on the default.
            "qualify_frequency": carrier.qualify_frequency,
        }],
        "ps_auths": [],
        "ps_registrations": [],
        "ps_endpoint_id_ips": [],
    }
    if not credentials:
        # Only a carrier matched by address gets an identify row. Asterisk identifies by source
        # address before user name (endpoint_identifier_order ip,username,anonymous), so a row
        # for an address phones also register from takes every REGISTER of theirs for the trunk
        # (404 "AOR '' not found for endpoint 'trunk-...'"). A credentials carrier is found
        # without it: its registration's `line` for calls to the registered contact.
        rows["ps_endpoint_id_ips"].append({
            "id": object_id,
            "endpoint": object_id,
            "match": carrier.host.strip("[]"),
        })
    if credentials:
        rows["ps_auths"].append({
            "id": object_id,
            "auth_type": "userpass",
            "username": carrier.username,
            "password": carrier.password,
        })
    if credentials and carrier.register:
        rows["ps_registrations"].append({
            "id": object_id,
            "server_uri": f"sip:{target}",
            "client_uri": f"sip:{carrier.username}@{target}",
            "contact_user": carrier.username,
            "outbound_auth": object_id,
            "transport": carrier.transport,
            "expiration": REGISTRATION_EXPIRATION,
            "retry_interval": REGISTRATION_RETRY_INTERVAL,
            "forbidden_retry_interval": REGISTRATION_FORBIDDEN_RETRY_INTERVAL,
            "fatal_retry_interval": REGISTRATION_FATAL_RETRY_INTERVAL,
            "max_retries": REGISTRATION_MAX_RETRIES,
            # Asterisk waits up to 10 s (its default) before a new registration's first
            # REGISTER, to spread hundreds of them at start-up; a carrier saved on the page
            # should register at once.
            "max_random_initial_delay": REGISTRATION_MAX_INITIAL_DELAY,
            "auth_rejection_permanent": "no",
            # line + endpoint: an INVITE to the registered contact finds this endpoint even
            # when it comes from an address the identify row does not list.
            "line": "yes",
            "endpoint": object_id,
        })
    for table_rows in rows.values():
        for row in table_rows:
            for column in [column for column, value in row.items() if value is None]:
                del row[column]
    return rows


def _delete_ids(object_ids: Iterable[str]) -> int:
    object_ids = list(object_ids)
    removed = 0
    for model in TABLES.values():
        removed += model.objects.filter(id__in=object_ids).delete()[0]
    # Deleting an endpoint leaves its contacts behind (docs/asterisk-behaviour.md).
    PsContact.objects.filter(endpoint__in=object_ids).delete()
    return removed


def carrier_unsync(object_ids: str | Iterable[str]) -> int:
    """Remove a carrier's rows from every table, by one object id (`trunk-acme`) or several;
    returns how many rows went."""
    object_ids = [object_ids] if isinstance(object_ids, str) else list(object_ids)
    with transaction.atomic():
        return _delete_ids(object_ids)


def carrier_sync(carrier: Carrier) -> int:
    """Write an active carrier's rows (or remove an inactive one's); returns rows written."""
    with transaction.atomic():
        _delete_ids([carrier_object_id(carrier.slug)])
        if not carrier.is_active:
            return 0
        written = 0
        for table, table_rows in carrier_realtime_rows(carrier).items():
            for row in table_rows:
                realtime_row_check(TABLES[table], row, f"carrier {carrier.name}")
                TABLES[table].objects.create(**row)
                written += 1
        return written


def phones_registered_from(host: str) -> list[str]:
    """The endpoints (not trunks) with a contact registered from `host`, as ps_contacts shows
    them: Asterisk writes the REGISTER's source in via_addr and the phone's own address in uri."""
    bare = host.strip("[]").lower()
    if not bare:
        return []
    found = set()
    contacts = (PsContact.objects.exclude(endpoint__startswith=ID_PREFIX)
                .values_list("endpoint", "via_addr", "uri"))
    for endpoint, via_addr, uri in contacts:
        if (via_addr or "").strip("[]").lower() == bare or _uri_address(uri or "") == bare:
            found.add(endpoint or "")
    return sorted(found - {""})


def _uri_address(uri: str) -> str:
    """The host of `sip:user@host:port;params` (bare, lowercase)."""
    rest = uri.split(":", 1)[1] if uri.lower().startswith(("sip:", "sips:")) else uri
    rest = rest.split(";", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0].lower()
    return rest.split(":", 1)[0].lower()


def carrier_rows_for(carrier: Carrier, *, reveal_secrets: bool = False) -> dict[str, list[dict]]:
    """The rows in the database now for this carrier, table by table, NULL columns left out
    (what Asterisk will read). Passwords are masked unless `reveal_secrets`."""
    object_id = carrier_object_id(carrier.slug)
    result: dict[str, list[dict]] = {}
    for table, model in TABLES.items():
        rows = []
        for row in model.objects.filter(id=object_id).values():
            row = {column: value for column, value in row.items() if value is not None}
            if "password" in row and not reveal_secrets:
                row["password"] = "********"
            rows.append(row)
        result[table] = rows
    return result
