"""Write paths for extensions (phones): create, update, delete, assign, bulk create, CSV.

Each runs in one transaction with the realtime rows (`Phone.save()` / `phones_sync_bulk`), so a
failure leaves neither a half-written phone nor half-written ps_* rows. Rules the database
cannot enforce everywhere (one active phone per user: MariaDB has no partial unique index) are
checked here, inside the transaction, with the user's row locked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.db import transaction

from audit.services import audit_bulk_record
from telephony.asterisk.realtime import callerid_problem, phones_sync_bulk, secret_generate
from telephony.csvcells import defuse, restore
from telephony.models import AsteriskServer, Phone, PsEndpoint
from telephony.models.phones import DEFAULT_CODECS, DEFAULT_TRANSPORT
from users.models import User
from users.roles import AGENT, is_agent

MAX_BULK = 10_000
CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ["extension", "name", "server", "context", "codecs", "transport", "max_contacts",
               "caller_id_name", "caller_id_number", "user", "active", "secret"]
CSV_REQUIRED = ("extension", "name", "server")
_CHUNK = 1000


class PhoneError(Exception):
    """A phone change refused for a reason the admin can fix; `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class BulkCollisionError(PhoneError):
    def __init__(self, collisions: list[str]):
        self.collisions = collisions
        shown = ", ".join(collisions[:20]) + (" ..." if len(collisions) > 20 else "")
        super().__init__(f"{len(collisions)} extension(s) in this range already exist: {shown}",
                         field="start")


@dataclass
class CsvImportError(Exception):
    """The file was refused; `errors` holds (line number or None, reason) for every bad row."""

    errors: list[tuple[int | None, str]]

    def __str__(self) -> str:
        return "; ".join(f"line {line}: {reason}" if line else reason
                         for line, reason in self.errors)


@dataclass
class CsvImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


# --- single phones -----------------------------------------------------------------------

def _check_assignable(user: User | None, *, phone_pk: int | None, active: bool) -> None:
    """A user gets a phone only with the Agent role and at most one active phone."""
    if user is None:
        return
    # Lock the user so two admins assigning phones to the same agent at once are serialized.
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active or not is_agent(locked):
        raise PhoneError(f"{user.username} is not an active user with the Agent role.",
                         field="user")
    if active:
        taken = (Phone.objects.filter(user=locked, is_active=True).exclude(pk=phone_pk)
                 .values_list("extension", flat=True).first())
        if taken:
            raise PhoneError(f"{user.username} already has active extension {taken}; a user "
                             "has at most one active phone.", field="user")


def _check_extension_free(extension: str, *, phone_pk: int | None) -> None:
    if Phone.objects.filter(extension=extension).exclude(pk=phone_pk).exists():
        raise PhoneError(f"Extension {extension} already exists.", field="extension")
    if not Phone.objects.filter(pk=phone_pk, extension=extension).exists() and \
            PsEndpoint.objects.filter(id=extension).exists():
        # A row no phone owns (a hand-made endpoint): never overwrite it silently.
        raise PhoneError(f"Asterisk already has an endpoint named {extension} in ps_endpoints "
                         "that no extension owns; remove it first.", field="extension")


def phone_create(*, extension: str, name: str, server: AsteriskServer, context: str = "agents",
                 codecs: str = DEFAULT_CODECS, transport: str = DEFAULT_TRANSPORT,
                 max_contacts: int = 1, caller_id_name: str = "", caller_id_number: str = "",
                 user: User | None = None, is_active: bool = True, secret: str = "") -> Phone:
    with transaction.atomic():
        _check_extension_free(extension, phone_pk=None)
        _check_assignable(user, phone_pk=None, active=is_active)
        phone = Phone(extension=extension, name=name, server=server, context=context,
                      codecs=codecs, transport=transport, max_contacts=max_contacts,
                      caller_id_name=caller_id_name, caller_id_number=caller_id_number,
                      user=user, is_active=is_active, secret=secret or secret_generate())
        phone.save()
    return phone


_UPDATABLE = {"extension", "name", "server", "context", "codecs", "transport", "max_contacts",
              "caller_id_name", "caller_id_number", "user", "is_active"}


def phone_update(*, phone: Phone, secret: str = "", regenerate_secret: bool = False,
                 **changes) -> Phone:
    """Change a phone; a blank `secret` keeps the current one. Renames and (de)activation move
    the realtime rows with it (see `Phone.save()`)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"phone_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        extension = changes.get("extension", phone.extension)
        if extension != phone.extension:
            _check_extension_free(extension, phone_pk=phone.pk)
        _check_assignable(changes.get("user", phone.user), phone_pk=phone.pk,
                          active=changes.get("is_active", phone.is_active))
        for name, value in changes.items():
            setattr(phone, name, value)
        if secret:
            phone.secret = secret
        elif regenerate_secret:
            phone.secret = secret_generate()
        phone.save()
    return phone


def phone_assign_user(*, phone: Phone, user: User | None) -> Phone:
    """Give the phone to an agent (or to nobody with `user=None`)."""
    return phone_update(phone=phone, user=user)


def phone_delete(*, phone: Phone) -> None:
    """Delete the phone with its ps_* rows and the ps_contacts Asterisk leaves behind."""
    phone.delete()


# --- bulk create ---------------------------------------------------------------------------

def extension_range(start: str, end: str) -> list[str]:
    """`0100`..`0199` keeps its leading zeros: numbers are padded to the first one's width."""
    width = len(start)
    return [str(number).zfill(width) for number in range(int(start), int(end) + 1)]


def phone_bulk_collisions(*, extensions: list[str]) -> list[str]:
    """Extensions of the list that already exist as phones or as endpoints nobody owns."""
    taken: set[str] = set()
    for offset in range(0, len(extensions), _CHUNK):
        chunk = extensions[offset:offset + _CHUNK]
        taken.update(Phone.objects.filter(extension__in=chunk).values_list("extension", flat=True))
        taken.update(PsEndpoint.objects.filter(id__in=chunk).values_list("id", flat=True))
    return [extension for extension in extensions if extension in taken]


def phone_bulk_create(*, start: str, end: str, name_pattern: str, server: AsteriskServer,
                      context: str = "agents", codecs: str = DEFAULT_CODECS,
                      transport: str = DEFAULT_TRANSPORT, max_contacts: int = 1) -> list[Phone]:
    """Create every extension from `start` to `end`, or none of them.

    Refuses (BulkCollisionError, nothing written) when any already exists. Phones go in with
    bulk_create and their realtime rows with `phones_sync_bulk`: a few queries per thousand.
    """
    extensions = extension_range(start, end)
    if not extensions or len(extensions) > MAX_BULK:
        raise PhoneError(f"A bulk create makes 1 to {MAX_BULK:,} extensions.", field="end")
    with transaction.atomic():
        collisions = phone_bulk_collisions(extensions=extensions)
        if collisions:
            raise BulkCollisionError(collisions)
        phones = [
            Phone(extension=extension, name=name_pattern.replace("{ext}", extension),
                  server=server, context=context, codecs=codecs, transport=transport,
                  max_contacts=max_contacts, secret=secret_generate())
            for extension in extensions
        ]
        for phone in phones:
            # bulk_create skips save(): run what the model's clean() would refuse.
            phone.clean_fields(exclude=["server", "user", "secret"])
        Phone.objects.bulk_create(phones, batch_size=_CHUNK)
        phones_sync_bulk(phones)
        audit_bulk_record(changes=[(None, phone) for phone in phones],
                          action=LogEntry.Action.CREATE, note="bulk create")
    return phones


# --- CSV -----------------------------------------------------------------------------------

def phone_csv_export(*, phones: Iterable[Phone], include_secrets: bool = False) -> str:
    """The extensions as CSV, in the format `phone_csv_import` reads back."""
    out = io.StringIO()
    columns = CSV_COLUMNS if include_secrets else CSV_COLUMNS[:-1]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for phone in phones:
        row = [phone.extension, defuse(phone.name), phone.server.name, phone.context, phone.codecs,
               phone.transport, phone.max_contacts, defuse(phone.caller_id_name),
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
            rows.append((reader.line_num, {k: restore((v or "").strip()) if k != "secret"
                                           else (v or "") for k, v in record.items()}))
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
    from telephony.forms.common import known_contexts, known_transports
    from telephony.forms.phones import PhoneCsvRowForm

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
    for offset in range(0, len(extensions), _CHUNK):
        chunk = extensions[offset:offset + _CHUNK]
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
                                  batch_size=_CHUNK)
    if to_create:
        Phone.objects.bulk_create(to_create, batch_size=_CHUNK)
    phones_sync_bulk(to_update + to_create)
    result.created = [phone.extension for phone in to_create]
    result.updated = [phone.extension for phone in to_update]
    return result

