"""The rows Asterisk reads for a phone: ps_aors, ps_auths and ps_endpoints (and ps_contacts,
which Asterisk writes and we only read or clean up).

This module is the ONE place that decides what those rows contain. `Phone.save()` and
`Phone.delete()` call `phone_sync` / `phone_unsync` inside the transaction that changes the Phone
row, and the bulk paths (bulk create, CSV import) call `phones_sync_bulk`, so every path writes the
same rows. The values follow what a real Asterisk 22 accepted (`../shared/asterisk/FACTS.md`):
ids are the extension, yes/no columns get lowercase 'yes'/'no', `auth_type` is 'userpass',
`max_contacts` is at least 1 with `remove_existing=yes`, `allow` alone decides the codecs, and no
value may contain ';' or '^' (res_config_odbc splits on ';' and decodes '^XX').

Columns the Phone does not manage are left alone on an existing row, so a PJSIP option an admin
set on the endpoint in the Django admin survives an ordinary edit. Deactivating, renaming or
deleting the phone removes its rows (and those options) with them.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import connection, models
from django.utils import timezone

from telephony.models.realtime import PsAor, PsAuth, PsContact, PsEndpoint

if TYPE_CHECKING:
    from telephony.models.phones import Phone

# Table name -> model, in the order rows are written (an endpoint names its aor and auth).
TABLES: dict[str, type[models.Model]] = {
    "ps_aors": PsAor,
    "ps_auths": PsAuth,
    "ps_endpoints": PsEndpoint,
}

# How often Asterisk OPTIONS-pings a registered phone: keeps NAT bindings open and lets
# `pjsip show contacts` tell a dead phone from a live one.
QUALIFY_FREQUENCY = 60

# Letters and digits only: nothing res_config_odbc treats specially (';', '^'), nothing a
# softphone's settings screen or a CSV cell would mangle.
SECRET_ALPHABET = string.ascii_letters + string.digits
GENERATED_SECRET_LENGTH = 24
MIN_TYPED_SECRET_LENGTH = 12
MAX_SECRET_LENGTH = 64
# Characters Asterisk's ODBC layer or a SIP header cannot carry in a realtime value.
FORBIDDEN_IN_VALUES = (";", "^", "\r", "\n")

_BATCH = 1000  # ids per IN (...) and rows per INSERT: well under every backend's limits


def secret_generate() -> str:
    """A random SIP password: 24 characters from letters and digits (about 142 bits)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(GENERATED_SECRET_LENGTH))


def secret_problem(secret: str) -> str | None:
    """Why an admin-typed secret cannot be used, or None when it can."""
    if len(secret) < MIN_TYPED_SECRET_LENGTH:
        return f"The secret must be at least {MIN_TYPED_SECRET_LENGTH} characters long."
    if len(secret) > MAX_SECRET_LENGTH:
        return f"The secret must be at most {MAX_SECRET_LENGTH} characters long."
    if any(ch in secret for ch in ";^"):
        return ("The secret cannot contain ';' or '^': Asterisk's ODBC layer treats them as "
                "separators and escapes, so the phone would never authenticate.")
    if any(ch.isspace() for ch in secret):
        return "The secret cannot contain spaces, tabs or line breaks."
    if not secret.isascii() or not secret.isprintable():
        return "The secret must be printable ASCII (no accented or control characters)."
    return None


def format_callerid(name: str, number: str) -> str | None:
    """The endpoint's `callerid` column: `"Name" <number>`, or NULL when neither is set."""
    if not name and not number:
        return None
    if not number:
        return f'"{name}"'
    if not name:
        return f"<{number}>"
    return f'"{name}" <{number}>'


CALLERID_WIDTH = 40  # ps_endpoints.callerid varchar(40)


def callerid_problem(name: str, number: str) -> str | None:
    """Why the name and number do not fit the callerid column together, or None."""
    callerid = format_callerid(name, number) or ""
    if len(callerid) <= CALLERID_WIDTH:
        return None
    room = CALLERID_WIDTH - len(callerid) + len(name)
    return (f"With the number, the caller ID {callerid} is {len(callerid)} characters; "
            f"Asterisk's column holds {CALLERID_WIDTH}. Shorten the name to {max(room, 0)} "
            f"characters.")


def aor_row(phone: Phone) -> dict:
    return {
        "id": phone.extension,
        "max_contacts": max(1, phone.max_contacts or 1),
        # A phone that re-registers from a new device or port replaces its old contact
        # instead of getting 403 "will exceed max contacts".
        "remove_existing": "yes",
        "qualify_frequency": QUALIFY_FREQUENCY,
    }


def auth_row(phone: Phone) -> dict:
    return {
        "id": phone.extension,
        "auth_type": "userpass",
        "username": phone.extension,
        "password": phone.secret,
    }


def endpoint_row(phone: Phone) -> dict:
    return {
        "id": phone.extension,
        "transport": phone.transport,
        "aors": phone.extension,
        "auth": phone.extension,
        "context": phone.context,
        "disallow": "all",  # ignored by realtime (allow alone decides); kept for readers
        "allow": phone.codecs,
        "callerid": format_callerid(phone.caller_id_name, phone.caller_id_number),
        # NAT-friendly defaults: media stays on Asterisk (no re-INVITEs to the phones), replies
        # go where packets came from, and the Contact is rewritten to the NAT's public side.
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
    }


def rows_for_phone(phone: Phone) -> dict[str, dict]:
    """The exact managed columns of the three rows for this phone, keyed by table name.

    Raises ValueError if a value holds a character Asterisk would split or decode: the forms
    refuse those first, this is the last line for any other path (shell, scripts).
    """
    rows = {"ps_aors": aor_row(phone), "ps_auths": auth_row(phone),
            "ps_endpoints": endpoint_row(phone)}
    for model in (PsAor, PsAuth, PsEndpoint):
        realtime_row_check(model, rows[model._meta.db_table], f"extension {phone.extension}")
    return rows


def realtime_row_check(model: type[models.Model], row: dict, owner: str) -> None:
    """Raise ValueError for a value Asterisk's ODBC layer would split or decode (';', '^', a
    line break) or that is wider than its column (PostgreSQL and strict MariaDB would refuse
    it with a bare DataError, SQLite would keep it). The forms refuse these first; this is the
    last line for every other path (shell, scripts, services called directly)."""
    table = model._meta.db_table
    fields = {field.column: field for field in model._meta.fields}
    for column, value in row.items():
        if not isinstance(value, str):
            continue
        if any(ch in value for ch in FORBIDDEN_IN_VALUES):
            raise ValueError(f"{table}.{column} of {owner} contains ';', '^' or a line break, "
                             "which Asterisk's ODBC layer cannot store.")
        width = fields[column].max_length
        if width and len(value) > width:
            raise ValueError(f"{table}.{column} of {owner} is {len(value)} characters; the "
                             f"column holds {width}.")


def phone_sync(phone: Phone, *, previous_extension: str | None = None) -> None:
    """Make the realtime rows match `phone`: written when active, removed when not.

    `previous_extension` is the number the phone had before this save; when it differs, the old
    rows (and contacts) go, so Asterisk stops accepting the old number. Call inside the
    transaction that saves the phone: a failing write then rolls the phone back too.
    """
    if previous_extension and previous_extension != phone.extension:
        phone_unsync(previous_extension)
    if not phone.is_active:
        phone_unsync(phone.extension)
        return
    for table, row in rows_for_phone(phone).items():
        model = TABLES[table]
        values = {key: value for key, value in row.items() if key != "id"}
        # UPDATE first so columns we do not manage (options set in the admin) survive an edit.
        if not model.objects.filter(id=row["id"]).update(**values):
            model.objects.create(**row)


def phone_unsync(extension: str) -> None:
    """Remove the phone's rows and its ps_contacts (Asterisk leaves contacts behind)."""
    extensions_unsync([extension])


def extensions_unsync(extensions: Sequence[str]) -> None:
    for chunk in _chunks(list(extensions)):
        # Endpoint first: Asterisk stops offering the phone before its aor and auth vanish.
        PsEndpoint.objects.filter(id__in=chunk).delete()
        PsAuth.objects.filter(id__in=chunk).delete()
        PsAor.objects.filter(id__in=chunk).delete()
        PsContact.objects.filter(endpoint__in=chunk).delete()


def phones_sync_bulk(phones: Iterable[Phone],
                     *, previous_extensions: dict[str, str] | None = None) -> int:
    """`phone_sync` for many phones at once: a few queries per 1000 phones, not six per phone.

    New rows go in with multi-row INSERTs of the managed columns, existing ones get those
    columns with bulk_update, inactive phones lose their rows. `previous_extensions` maps new
    extension -> old extension for renamed phones. Call inside the transaction that saves the
    phones. Returns the number of rows written (created or updated).
    """
    phones = list(phones)
    gone = [old for new, old in (previous_extensions or {}).items() if old and old != new]
    gone += [phone.extension for phone in phones if not phone.is_active]
    if gone:
        extensions_unsync(gone)
    active = [phone for phone in phones if phone.is_active]
    if not active:
        return 0
    written = 0
    rows_by_table: dict[str, list[dict]] = {table: [] for table in TABLES}
    for phone in active:
        for table, row in rows_for_phone(phone).items():
            rows_by_table[table].append(row)
    for table, rows in rows_by_table.items():
        model = TABLES[table]
        existing: set[str] = set()
        for chunk in _chunks([row["id"] for row in rows]):
            existing.update(model.objects.filter(id__in=chunk).values_list("id", flat=True))
        new = [row for row in rows if row["id"] not in existing]
        changed = [model(**row) for row in rows if row["id"] in existing]
        if new:
            _insert_rows(model, new)
        if changed:
            managed = [key for key in rows[0] if key != "id"]
            model.objects.bulk_update(changed, managed, batch_size=_BATCH)
        written += len(rows)
    return written


def _insert_rows(model: type[models.Model], rows: list[dict]) -> None:
    """INSERT rows naming only their columns, up to 1000 rows per statement.

    Not bulk_create: it sends every one of ps_endpoints' 147 columns (NULLs included) through
    its field's preparation, which made 10,000 phones take about 5 s on PostgreSQL instead of 2.
    Values are already what the column stores (str, int or None; '' becomes NULL as the models'
    BlankIsNullMixin would).
    """
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    max_params = connection.features.max_query_params or 65535
    per_statement = max(1, min(_BATCH, max_params // len(fields)))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            params = [None if row[field.name] == "" else row[field.name]
                      for row in chunk for field in fields]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "
                           + ", ".join([one_row] * len(chunk)), params)


def realtime_rows_for(extension: str) -> dict[str, dict]:
    """What Asterisk reads for this extension: per table, the row's non-NULL columns by their
    database names (NULL means "Asterisk's default"); {} when the row does not exist."""
    result: dict[str, dict] = {}
    for table, model in TABLES.items():
        obj = model.objects.filter(id=extension).first()
        result[table] = {} if obj is None else {
            field.column: getattr(obj, field.attname)
            for field in model._meta.concrete_fields
            if getattr(obj, field.attname) is not None
        }
    return result


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


def _chunks(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]
