"""The rows Asterisk reads for a phone: ps_aors, ps_auths and ps_endpoints (ps_contacts, which
Asterisk writes, are read in `registration.py`; here they are only cleaned up).

This module is the ONE place that decides what those rows contain. `Phone.save()` and
`Phone.delete()` call `phone_sync` / `phone_unsync` inside the transaction that changes the Phone
row, and the bulk paths (bulk create, CSV import) call `phones_sync_bulk`, so every path writes the
same rows. The values follow what a real Asterisk 22 accepted (docs/asterisk-behaviour.md):
ids are the extension, yes/no columns get lowercase 'yes'/'no', `auth_type` is 'userpass',
`max_contacts` is at least 1 with `remove_existing=yes`, `allow` alone decides the codecs, and no
value may contain ';' or '^' (res_config_odbc splits on ';' and decodes '^XX').

Columns the Phone does not manage are left alone on an existing row, so a PJSIP option an admin
set on the endpoint in the Django admin survives an ordinary edit. Deactivating, renaming or
deleting the phone removes its rows (and those options) with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import models

from telephony.asterisk.values import format_callerid
from telephony.models.realtime import PsAor, PsAuth, PsContact, PsEndpoint
from telephony.realtime.rows import BATCH, chunks, insert_rows, realtime_row_check

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
    for chunk in chunks(list(extensions)):
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
        for chunk in chunks([row["id"] for row in rows]):
            existing.update(model.objects.filter(id__in=chunk).values_list("id", flat=True))
        new = [row for row in rows if row["id"] not in existing]
        changed = [model(**row) for row in rows if row["id"] in existing]
        if new:
            insert_rows(model, new)
        if changed:
            managed = [key for key in rows[0] if key != "id"]
            model.objects.bulk_update(changed, managed, batch_size=BATCH)
        written += len(rows)
    return written


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
