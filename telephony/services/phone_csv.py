"""Extensions (phones) as CSV: the export and the import that reads it back.

The import checks every row before it writes any (a refused file lists every bad line), then
creates and updates the phones with their realtime rows in one transaction (`phones_sync_bulk`),
so a file is applied whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from telephony import csvcells
from telephony.asterisk.values import callerid_problem, secret_generate
from telephony.csvcells import restore
from telephony.forms.common import known_contexts, known_transports
from telephony.forms.phone_csv import PhoneCsvRowForm
from telephony.models import AsteriskServer, Phone, PsEndpoint
from telephony.models.phones import DEFAULT_CODECS, DEFAULT_TRANSPORT
from telephony.realtime.phones import phones_sync_bulk
from telephony.services.errors import ServiceError
from telephony.services.phones import CHUNK
from users.models import User
from users.roles import AGENT

CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ["extension", "name", "server", "context", "codecs", "transport", "max_contacts",
               "caller_id_name", "caller_id_number", "user", "active", "secret"]
CSV_REQUIRED = ("extension", "name", "server")


class CsvImportError(ServiceError):
    """The file was refused; `errors` holds (line number or None, reason) for every bad row."""

    code = "csv_refused"

    def __init__(self, errors: list[tuple[int | None, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"line {line}: {reason}" if line else reason
                                   for line, reason in errors), field="file")


@dataclass
class CsvImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def phone_csv_export(*, phones: Iterable[Phone], include_secrets: bool = False) -> str:
    """The extensions as CSV, in the format `phone_csv_import` reads back."""
    out = io.StringIO()
    columns = CSV_COLUMNS if include_secrets else CSV_COLUMNS[:-1]
    writer = csvcells.writer(out, lineterminator="\r\n")  # every cell defused
    writer.writerow(columns)
    for phone in phones:
        row = [phone.extension, phone.name, phone.server.name, phone.context, phone.codecs,
               phone.transport, phone.max_contacts, phone.caller_id_name,
               phone.caller_id_number,
               phone.user.username if phone.user else "", "yes" if phone.is_active else "no"]
        if include_secrets:
            row.append(phone.secret)
        writer.writerow(row)
    return out.getvalue()


def _parse_csv(data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    if len(data) > CSV_MAX_BYTES:
        raise CsvImportError([(None, f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit "
                                     "is 2 MB (10,000 rows). Split it into several files.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError([(None, "The file is not UTF-8 text (save it as CSV UTF-8); "
                                     f"bad byte at position {exc.start}.")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise CsvImportError([(None, "The file is empty: the first line must name the columns "
                                     f"({', '.join(CSV_COLUMNS)}).")])
    reader.fieldnames = header
    problems: list[tuple[int | None, str]] = []
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)}. Required: "
                            f"{', '.join(CSV_REQUIRED)}; optional: "
                            f"{', '.join(c for c in CSV_COLUMNS if c not in CSV_REQUIRED)}."))
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        problems.append((1, f"unknown column(s): {', '.join(unknown)}."))
    if len(set(header)) != len(header):
        problems.append((1, "a column appears twice."))
    if problems:
        raise CsvImportError(problems)
    rows: list[tuple[int, dict]] = []
    try:
        for record in reader:
            if len(rows) >= CSV_MAX_ROWS:
                raise CsvImportError([(None, f"The file has more than {CSV_MAX_ROWS:,} rows; "
                                             "split it into several files.")])
            if None in record:
                problems.append((reader.line_num, "more cells than columns."))
                continue
            if not any((value or "").strip() for value in record.values()):
                continue  # blank line
            # The export defuses every cell, the secret too (one may start with '-').
            rows.append((reader.line_num, {k: restore((v or "").strip()) if k != "secret"
                                           else restore(v or "") for k, v in record.items()}))
    except csv.Error as exc:
        raise CsvImportError([(reader.line_num, f"unreadable CSV: {exc}.")]) from None
    if problems:
        raise CsvImportError(problems)
    if not rows:
        raise CsvImportError([(None, "The file has a header but no rows.")])
    return header, rows


def phone_csv_import(*, data: bytes) -> CsvImportResult:
    """Create or update extensions from CSV. Every bad row is reported (CsvImportError with line
    numbers) and then nothing is changed; otherwise everything is written in one transaction.

    Columns: extension, name, server (its name) required; context, codecs, transport,
    max_contacts, caller_id_name, caller_id_number, user (an agent's username), active (yes/no),
    secret optional. For a new extension a blank optional cell means the default; for an
    existing one it keeps the current value, except caller_id_* and user, where blank clears.
    """
    header, rows = _parse_csv(data)
    choices = {"contexts": known_contexts(), "transports": known_transports()}
    errors: list[tuple[int | None, str]] = []
    servers = {server.name: server for server in AsteriskServer.objects.all()}
    seen: dict[str, int] = {}
    valid: list[tuple[int, dict]] = []
    for line, record in rows:
        form = PhoneCsvRowForm(record, **choices)
        if not form.is_valid():
            for name, messages in form.errors.items():
                errors.append((line, f"{name}: {' '.join(messages)}"))
            continue
        data_ = form.cleaned_data
        if data_["extension"] in seen:
            errors.append((line, f"extension {data_['extension']} is also on line "
                                 f"{seen[data_['extension']]} (duplicate row)."))
            continue
        seen[data_["extension"]] = line
        if data_["server"] not in servers:
            errors.append((line, f"server: no Asterisk server is named {data_['server']!r}."))
            continue
        valid.append((line, data_))
    if errors:
        raise CsvImportError(errors)

    with transaction.atomic():
        result = _csv_apply(header, valid, servers, errors)
        if errors:
            # Roll back: the rows checked against the database found problems.
            transaction.set_rollback(True)
    if errors:
        raise CsvImportError(sorted(errors, key=lambda item: item[0] or 0))
    return result


def _csv_apply(header: list[str], valid: list[tuple[int, dict]],
               servers: dict[str, AsteriskServer],
               errors: list[tuple[int | None, str]]) -> CsvImportResult:
    result = CsvImportResult()
    extensions = [data["extension"] for _line, data in valid]
    existing: dict[str, Phone] = {}
    orphan_endpoints: set[str] = set()
    for offset in range(0, len(extensions), CHUNK):
        chunk = extensions[offset:offset + CHUNK]
        existing.update({phone.extension: phone for phone in
                         Phone.objects.select_for_update().filter(extension__in=chunk)})
        orphan_endpoints.update(PsEndpoint.objects.filter(id__in=chunk)
                                .values_list("id", flat=True))
    usernames = {data["user"] for _line, data in valid if data["user"]}
    # Locked so a concurrent assignment cannot slip between this check and the write.
    users = {user.username: user for user in
             User.objects.select_for_update().filter(username__in=usernames)}
    agents = set(User.objects.filter(username__in=usernames, groups__name=AGENT, is_active=True)
                 .values_list("username", flat=True))
    # Who holds an active phone now, then as the file leaves it: one active phone per user.
    holder = dict(Phone.objects.filter(is_active=True, user__username__in=usernames)
                  .values_list("user__username", "extension"))
    file_rows = {data["extension"]: data for _line, data in valid}
    to_create: list[Phone] = []
    to_update: list[Phone] = []
    claimed: dict[str, int] = {}
    for line, data in valid:
        phone = existing.get(data["extension"])
        creating = phone is None
        if creating and data["extension"] in orphan_endpoints:
            errors.append((line, f"Asterisk already has an endpoint named {data['extension']} "
                                 "that no extension owns; remove it first."))
            continue
        if creating:
            phone = Phone(extension=data["extension"], secret=secret_generate())
        phone.name = data["name"]
        phone.server = servers[data["server"]]
        for name, default in (("context", "agents"), ("codecs", DEFAULT_CODECS),
                              ("transport", DEFAULT_TRANSPORT), ("max_contacts", 1)):
            if data[name] not in ("", None):
                setattr(phone, name, data[name])
            elif creating:
                setattr(phone, name, default)
        for name in ("caller_id_name", "caller_id_number"):
            if name in header:
                setattr(phone, name, data[name])
        if problem := callerid_problem(phone.caller_id_name, phone.caller_id_number):
            errors.append((line, f"caller_id_name: {problem}"))
            continue
        if data["active"] is not None:
            phone.is_active = data["active"]
        elif creating:
            phone.is_active = True
        if data["secret"]:
            phone.secret = data["secret"]
        if "user" in header:
            username = data["user"]
            user = users.get(username) if username else None
            if username and username not in agents:
                errors.append((line, f"user: {username} is not an active user with the Agent "
                                     "role."))
                continue
            phone.user = user
        if phone.user and phone.is_active:
            username = phone.user.username
            if username in claimed:
                errors.append((line, f"user: {username} is also given an active phone on line "
                                     f"{claimed[username]}; a user has at most one."))
                continue
            claimed[username] = line
            current = holder.get(username)
            released = current in file_rows and (
                file_rows[current]["active"] is False
                or ("user" in header and file_rows[current]["user"] != username))
            if current and current != phone.extension and not released:
                errors.append((line, f"user: {username} already has active extension "
                                     f"{current}; a user has at most one active phone."))
                continue
        (to_create if creating else to_update).append(phone)
    if errors:
        return result
    if to_update:
        Phone.objects.bulk_update(to_update, ["name", "server", "context", "codecs", "transport",
                                              "max_contacts", "caller_id_name",
                                              "caller_id_number", "user", "is_active", "secret"],
                                  batch_size=CHUNK)
    if to_create:
        Phone.objects.bulk_create(to_create, batch_size=CHUNK)
    phones_sync_bulk(to_update + to_create)
    result.created = [phone.extension for phone in to_create]
    result.updated = [phone.extension for phone in to_update]
    return result
