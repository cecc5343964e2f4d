"""Extensions (phones) as CSV: the export, the template, and the import that reads them back.

The import runs in two steps. `phone_csv_check` reads the whole file, checks every row against
the forms' validators and the database in one pass and returns the plan (a dry run: N new, N
updated, N rejected, every problem with its line, value and reason), writing nothing.
`phone_csv_import` runs the same check again inside one transaction, with the rows it reads
locked, refuses when the plan is not the one the admin confirmed (`PlanChanged`), and writes
the good rows with their realtime rows (`phones_sync_bulk`) together. Rejected rows are skipped.
A big import runs as a background job instead (telephony/services/phone_import_job.py), which
writes the same rows in batches through `phone_csv_write_batch`.
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from collections.abc import Callable, Iterable

from auditlog.models import LogEntry
from django.db import transaction

from audit.services import audit_bulk_record
from telephony import csvcells
from telephony.asterisk.values import callerid_problem, secret_generate
from telephony.forms.common import known_contexts, known_transports
from telephony.forms.phone_csv import PhoneCsvRowForm
from telephony.models import AsteriskServer, Phone, PsEndpoint
from telephony.models.phones import DEFAULT_CODECS, DEFAULT_TRANSPORT
from telephony.realtime.phones import phones_sync_bulk
from telephony.services.csv_table import (
    ImportPlan,
    PlanChanged,
    Problem,
    Row,
    Table,
    shown,
    table_read,
)
from telephony.services.import_job import batch_check
from telephony.services.phones import CHUNK
from users.models import User
from users.roles import AGENT

CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ["extension", "name", "server", "context", "codecs", "transport", "max_contacts",
               "caller_id_name", "caller_id_number", "user", "active", "secret"]
CSV_REQUIRED = ("extension", "name", "server")
# What an import writes to an existing phone (and compares to say "unchanged").
WRITTEN = ["name", "server_id", "context", "codecs", "transport", "max_contacts",
           "caller_id_name", "caller_id_number", "user_id", "is_active", "secret"]


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


def phone_csv_template() -> str:
    """The header and one example row: what an admin fills in."""
    server = AsteriskServer.objects.order_by("name").values_list("name", flat=True).first()
    out = io.StringIO()
    writer = csvcells.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS[:-1])
    writer.writerow(["1001", "Front desk", server or "pbx1", "agents", "ulaw|alaw",
                     DEFAULT_TRANSPORT, 1, "", "", "", "yes"])
    return out.getvalue()


class _Plan:
    """The check of one file: the rows, what the database holds for them, the problems."""

    def __init__(self, rows: list[Row], header: list[str], *, lock: bool,
                 progress: Callable[..., None] | None = None) -> None:
        self.rows, self.header, self.lock = rows, header, lock
        self.progress = progress
        self.problems: dict[int, list[Problem]] = defaultdict(list)
        self.cleaned: dict[int, dict] = {}

    def add(self, line: int, column: str, value: str, reason: str) -> None:
        self.problems[line].append(Problem(line, column, shown(value), reason))

    def run(self) -> ImportPlan:
        choices = {"contexts": known_contexts(), "transports": known_transports()}
        servers = {server.name: server for server in AsteriskServer.objects.all()}
        for checked, row in enumerate(self.rows):
            if self.progress and checked % CHUNK == 0:
                self.progress(rows_total=len(self.rows), rows_checked=checked)
            for problem in row.problems:
                self.problems[row.line].append(problem)
            form = PhoneCsvRowForm(row.cells, **choices)
            form.is_valid()
            flagged = {problem.column for problem in row.problems}
            for name, messages in form.errors.items():
                if name in flagged:
                    continue  # a line break: said once
                self.add(row.line, name, row.cells.get(name, ""),
                         f"{name}: {' '.join(messages)}")
            cleaned = form.cleaned_data
            if cleaned.get("server") and cleaned["server"] not in servers:
                self.add(row.line, "server", cleaned["server"],
                         f"server: no Asterisk server is named {cleaned['server']!r}.")
            self.cleaned[row.line] = cleaned
        self._duplicates()
        self._load()
        phones = self._phones(servers)
        self._users()
        self._one_active_phone_each(phones)
        if self.progress:
            self.progress(rows_checked=len(self.rows))
        return self._result(phones)

    def _duplicates(self) -> None:
        lines = defaultdict(list)
        for line, cleaned in self.cleaned.items():
            if cleaned.get("extension"):
                lines[cleaned["extension"]].append(line)
        for extension, same in lines.items():
            for line in same if len(same) > 1 else []:
                others = ", ".join(str(other) for other in same if other != line)
                self.add(line, "extension", extension,
                         f"extension {extension} is also on line {others}: one row per "
                         "extension.")

    def _load(self) -> None:
        """What the database holds for the file's extensions and users, a chunk at a time."""
        extensions = [c["extension"] for c in self.cleaned.values() if c.get("extension")]
        # Locked so a concurrent edit cannot slip between this check and the write.
        phones = Phone.objects.select_for_update() if self.lock else Phone.objects.all()
        self.existing: dict[str, Phone] = {}
        self.orphans: set[str] = set()
        for offset in range(0, len(extensions), CHUNK):
            chunk = extensions[offset:offset + CHUNK]
            self.existing.update({p.extension: p for p in phones.filter(extension__in=chunk)})
            self.orphans.update(PsEndpoint.objects.filter(id__in=chunk)
                                .values_list("id", flat=True))
        self.usernames = {c["user"] for c in self.cleaned.values() if c.get("user")}
        users = User.objects.filter(username__in=self.usernames)
        self.users = {user.username: user for user in
                      (users.select_for_update() if self.lock else users)}
        self.agents = set(users.filter(groups__name=AGENT, is_active=True)
                          .values_list("username", flat=True))

    def _phones(self, servers: dict[str, AsteriskServer]) -> dict[int, tuple[Phone, Phone | None]]:
        """line -> (the phone as the row leaves it, the phone as it was or None), for every row
        whose extension is readable; a row's other problems do not hide these checks."""
        phones = {}
        for row in self.rows:
            data = self.cleaned[row.line]
            extension = data.get("extension")
            if not extension:
                continue
            before = self.existing.get(extension)
            if before is None and extension in self.orphans:
                self.add(row.line, "extension", extension,
                         f"extension: Asterisk already has an endpoint named {extension} that "
                         "no extension owns; remove it first.")
            phone = copy.copy(before) if before else Phone(extension=extension)
            creating = before is None
            for name in ("name", "secret"):
                if data.get(name):
                    setattr(phone, name, data[name])
            if data.get("server") in servers:
                phone.server = servers[data["server"]]
            for name, default in (("context", "agents"), ("codecs", DEFAULT_CODECS),
                                  ("transport", DEFAULT_TRANSPORT), ("max_contacts", 1)):
                if data.get(name) not in ("", None):
                    setattr(phone, name, data[name])
                elif creating:
                    setattr(phone, name, default)
            for name in ("caller_id_name", "caller_id_number"):
                if name in self.header and name in data:
                    setattr(phone, name, data[name])
            if "caller_id_name" in data and "caller_id_number" in data and (
                    problem := callerid_problem(phone.caller_id_name, phone.caller_id_number)):
                self.add(row.line, "caller_id_name", phone.caller_id_name,
                         f"caller_id_name: {problem}")
            if data.get("active") is not None:
                phone.is_active = data["active"]
            elif creating:
                phone.is_active = True
            if "user" in self.header and "user" in data:
                user = self.users.get(data["user"]) if data["user"] else None
                phone.user = user if data["user"] in self.agents else None
            phones[row.line] = (phone, before)
        return phones

    def _users(self) -> None:
        for line, data in self.cleaned.items():
            username = data.get("user")
            if not username:
                continue
            if username not in self.users:
                self.add(line, "user", username, f"user: no user is named {username!r}.")
            elif username not in self.agents:
                self.add(line, "user", username,
                         f"user: {username} is not an active user with the Agent role.")

    def _one_active_phone_each(self, phones: dict[int, tuple[Phone, Phone | None]]) -> None:
        """A user has at most one active phone, as the file leaves them. A phone an agent
        leaves frees them only when its row is written, so this repeats until no rejection
        makes another one."""
        claimed = defaultdict(list)
        for line, (phone, _before) in phones.items():
            if phone.user_id and phone.is_active:
                claimed[phone.user_id].append(line)
        users = User.objects.filter(pk__in=list(claimed))
        # The users whose phones the file leaves active, locked like their phones.
        names = dict((users.select_for_update() if self.lock else users)
                     .values_list("pk", "username"))
        claims = {names[user_id]: lines for user_id, lines in claimed.items()}
        # Who holds an active phone now: one active phone per user.
        self.holder = dict(Phone.objects.filter(is_active=True, user_id__in=list(claimed))
                           .values_list("user__username", "extension"))
        for username, lines in claims.items():
            for line in lines if len(lines) > 1 else []:
                others = ", ".join(str(other) for other in lines if other != line)
                self.add(line, "user", username, f"user: {username} is also given an active "
                                                 f"phone on line {others}; a user has at most "
                                                 "one.")
        by_extension = {phone.extension: (line, phone) for line, (phone, _b) in phones.items()}
        flagged: set[int] = set()
        changed = True
        while changed:
            changed = False
            for username, lines in claims.items():
                line = lines[0]
                current = self.holder.get(username)
                if len(lines) > 1 or line in flagged or current in (None, phones[line][0]
                                                                    .extension):
                    continue
                leaving = by_extension.get(current)
                released = leaving is not None and not self.problems.get(leaving[0]) and (
                    not leaving[1].is_active or leaving[1].user_id != phones[line][0].user_id)
                if released:
                    continue
                note = (f" (line {leaving[0]} would free it, but it is rejected)"
                        if leaving else "")
                # A row rejected only now may have been the one freeing another agent.
                changed = changed or not self.problems.get(line)
                flagged.add(line)
                self.add(line, "user", username,
                         f"user: {username} already has active extension {current}{note}; "
                         "a user has at most one active phone.")

    def _result(self, phones: dict[int, tuple[Phone, Phone | None]]) -> ImportPlan:
        plan = ImportPlan(problems=sorted((p for ps in self.problems.values() for p in ps),
                                          key=lambda p: p.line or 0))
        facts = []
        for row in self.rows:
            if row.line in self.problems:
                continue
            phone, before = phones[row.line]
            values = [getattr(phone, name) for name in WRITTEN]
            if before is None:
                plan.created.append((phone, None))
            elif values != [getattr(before, name) for name in WRITTEN]:
                plan.updated.append((phone, before))
            else:
                plan.unchanged.append((phone, before))
                continue
            # A new phone's generated secret is not part of what the admin confirms.
            facts.append((phone.extension, before is None,
                          values if before else values[:-1] + [bool(phone.secret)]))
            plan.line_facts[row.line] = facts[-1]
            # The agent the row gives the phone and the one it takes it from: a batch of the
            # background job writes both ends of an agent's move (the unique index of one
            # active phone per user sees each batch's end state).
            plan.ties[row.line] = {user_id for user_id in (phone.user_id, before and
                                                           before.user_id) if user_id}
        plan.seal(facts)
        return plan


def phone_csv_table(data: bytes) -> Table:
    """The file read as the import's columns; raises CsvRefused for a file that cannot be
    (too big, not UTF-8, missing or unknown columns)."""
    return table_read(data, columns=CSV_COLUMNS, required=CSV_REQUIRED,
                      max_bytes=CSV_MAX_BYTES, max_rows=CSV_MAX_ROWS, raw_columns=("secret",))


def phone_csv_check(*, data: bytes | None = None, table: Table | None = None,
                    lock: bool = False,
                    progress: Callable[..., None] | None = None) -> ImportPlan:
    """The dry run: what importing `data` (or its `table`) would do, writing nothing."""
    table = table or phone_csv_table(data)
    plan = _Plan(table.rows, table.header, lock=lock, progress=progress).run()
    plan.delimiter = table.delimiter
    return plan


def phone_csv_write_batch(*, table: Table, lines: list[int], expected: dict) -> ImportPlan:
    """Write the rows of `lines` (one batch of the background job) in the caller's
    transaction: checked again with their rows locked, refused (BatchChanged, nothing of the
    batch written) unless they write exactly `expected`, the facts the job's plan stored."""
    wanted = set(lines)
    rows = [row for row in table.rows if row.line in wanted]
    plan = _Plan(rows, table.header, lock=True).run()
    batch_check(plan, lines, expected)
    _write(plan)
    return plan


def phone_csv_import(*, data: bytes, fingerprint: str | None = None,
                     progress: Callable[..., None] | None = None) -> ImportPlan:
    """Write the good rows of `data` in one transaction (rejected rows are skipped). With the
    dry run's `fingerprint`, refuses (PlanChanged, nothing written) when the plan differs.
    `progress(**counts)`, when given, is told rows_total/rows_checked during the check and
    writes_total/rows_written during the write (the background job shows them).

    Columns: extension, name, server (its name) required; context, codecs, transport,
    max_contacts, caller_id_name, caller_id_number, user (an agent's username), active (yes/no),
    secret optional. For a new extension a blank optional cell means the default; for an
    existing one it keeps the current value, except caller_id_* and user, where blank clears.
    """
    with transaction.atomic():
        plan = phone_csv_check(data=data, lock=True, progress=progress)
        if fingerprint is not None and plan.fingerprint != fingerprint:
            raise PlanChanged(plan)
        _write(plan, progress)
    return plan


def _write(plan: ImportPlan, progress: Callable[..., None] | None = None) -> None:
    """The plan's created and updated phones with their realtime rows and audit entries, in
    the caller's transaction."""
    to_create = [phone for phone, _before in plan.created]
    to_update = [phone for phone, _before in plan.updated]
    if progress:
        progress(writes_total=len(to_create) + len(to_update), rows_written=0)
    for phone in to_create:
        phone.secret = phone.secret or secret_generate()
    # PostgreSQL and SQLite check the one-active-phone-per-user index as each row of the
    # one UPDATE below is written, so an agent moving to a phone written before the one
    # they leave, switching which of their phones is active, or (SQLite) two agents
    # swapping phones collide halfway although the file's end state is valid (the dry run
    # checked that). The rows whose agent or active flag changes drop their agent first,
    # in this transaction; the UPDATE then sets the final values.
    releasing = [phone.pk for phone, before in plan.updated if before.user_id and (
        before.user_id != phone.user_id or before.is_active != phone.is_active)]
    for start in range(0, len(releasing), CHUNK):
        Phone.objects.filter(pk__in=releasing[start:start + CHUNK]).update(user=None)
    # A chunk at a time (bulk_update's and bulk_create's own batches), so progress moves.
    for start in range(0, len(to_update), CHUNK):
        Phone.objects.bulk_update(to_update[start:start + CHUNK], [
            "name", "server", "context", "codecs", "transport", "max_contacts",
            "caller_id_name", "caller_id_number", "user", "is_active", "secret"])
        if progress:
            progress(rows_written=min(start + CHUNK, len(to_update)) // 2)
    for start in range(0, len(to_create), CHUNK):
        Phone.objects.bulk_create(to_create[start:start + CHUNK])
        if progress:
            progress(rows_written=(len(to_update) + min(start + CHUNK, len(to_create))) // 2)
    phones_sync_bulk(to_update + to_create)
    audit_bulk_record(changes=[(None, phone) for phone in to_create],
                      action=LogEntry.Action.CREATE, note="CSV import")
    audit_bulk_record(changes=[(before, phone) for phone, before in plan.updated],
                      action=LogEntry.Action.UPDATE, note="CSV import")
    if progress:  # the phones were half the write, their realtime rows and audit the rest
        progress(rows_written=len(to_update) + len(to_create))
