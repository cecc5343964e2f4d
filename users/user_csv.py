"""Users in bulk from CSV: agents (or supervisors, admins) with their extension, in the two steps
of every import (`telephony/services/csv_table.py`): `user_csv_check` is the dry run, every row
checked in one pass; `user_csv_import` checks again inside one transaction and writes the good
rows through the user form's own services (`user_create` / `user_update`, then `phone_create`
and `phone_assign`, which write the extension's realtime rows). A big import runs as a
background job instead (users/user_import_job.py), which writes the same rows in batches
through `user_csv_write_batch`.

No passwords: a created user has an unusable one until they follow a set-password link
(`users/password_links.py`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from telephony import csvcells
from telephony.models import AsteriskServer, Phone, PsEndpoint
from telephony.services.csv_table import (
    CsvRefused,
    ImportPlan,
    PlanChanged,
    Problem,
    Row,
    Table,
    shown,
    table_read,
)
from telephony.services.errors import ServiceError
from telephony.services.import_job import batch_check
from telephony.services.phones import phone_assign, phone_create
from telephony.validators import display_name_problem
from users.forms import UserCsvRowForm
from users.models import User
from users.roles import ADMIN, AGENT, ROLES
from users.services import user_create, user_update

# Each row goes through the user form's services (about 30 queries with its new extension):
# benchmarks/csv_imports.py measured 500 rows at ~8 s on a loaded PostgreSQL, which is what a
# web request can carry; a confirmation writing more (IMPORT_BACKGROUND_AFTER) runs as a
# background job (users/user_import_job.py) instead, up to the extensions import's limits.
CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ["username", "name", "first_name", "last_name", "email", "role", "extension",
               "server"]
CSV_REQUIRED = ("username",)
NAME_FIELDS = ("first_name", "last_name", "email")
PROGRESS_EVERY = 100  # rows checked between two progress reports of the background job


@dataclass
class UserRow:
    """What one good row writes."""

    line: int
    username: str
    user: User | None  # None: created
    values: dict = field(default_factory=dict)
    role: str = AGENT
    extension: str = ""
    phone: Phone | None = None  # the existing extension to assign
    new_phone_server: AsteriskServer | None = None  # or: create the extension on this server

    def facts(self) -> tuple:
        return (self.username, self.user is None, sorted(self.values.items()), self.role,
                self.extension, self.phone.pk if self.phone else None,
                self.new_phone_server.pk if self.new_phone_server else None)


def user_csv_template() -> str:
    server = AsteriskServer.objects.order_by("name").values_list("name", flat=True).first()
    out = io.StringIO()
    writer = csvcells.writer(out, lineterminator="\r\n")
    writer.writerow(["username", "name", "email", "role", "extension", "server"])
    writer.writerow(["jmuller", "Jürgen Müller", "jmuller@example.com", AGENT, "1001",
                     server or "pbx1"])
    return out.getvalue()


class _Check:
    def __init__(self, rows: list[Row], header: list[str], *, actor: User, lock: bool,
                 progress: Callable[..., None] | None = None) -> None:
        self.rows, self.header, self.actor, self.lock = rows, header, actor, lock
        self.progress = progress
        self.problems: dict[int, list[Problem]] = defaultdict(list)
        self.cleaned: dict[int, dict] = {}

    def add(self, line: int, column: str, value: str, reason: str) -> None:
        self.problems[line].append(Problem(line, column, shown(value), reason))

    def run(self) -> ImportPlan:
        for checked, row in enumerate(self.rows):
            if self.progress and checked % PROGRESS_EVERY == 0:
                self.progress(rows_total=len(self.rows), rows_checked=checked)
            self.problems[row.line].extend(row.problems)
            flagged = {problem.column for problem in row.problems}
            cells = dict(row.cells)
            if "name" in cells:
                # "Jürgen Müller": the first word is the first name, the rest the last name.
                first, _space, last = cells.pop("name").partition(" ")
                cells.update(first_name=first.strip(), last_name=last.strip())
            form = UserCsvRowForm(cells)
            form.is_valid()
            for name, messages in form.errors.items():
                column = "name" if name in ("first_name", "last_name") and \
                    "name" in row.cells else name
                if column not in flagged:
                    self.add(row.line, column, row.cells.get(column, ""),
                             f"{column}: {' '.join(messages)}")
            self.cleaned[row.line] = form.cleaned_data
        self._duplicates("username", key=str.lower)
        self._duplicates("extension", key=str)
        self._load()
        plan = self._plan()
        if self.progress:
            self.progress(rows_checked=len(self.rows))
        return plan

    def _duplicates(self, column: str, *, key) -> None:
        lines = defaultdict(list)
        for line, cleaned in self.cleaned.items():
            if cleaned.get(column):
                lines[key(cleaned[column])].append(line)
        for same in lines.values():
            for line in same if len(same) > 1 else []:
                others = ", ".join(str(other) for other in same if other != line)
                value = self.cleaned[line][column]
                self.add(line, column, value, f"{column}: {value} is also on line {others}: "
                                              "one row each.")

    def _load(self) -> None:
        usernames = [c["username"] for c in self.cleaned.values() if c.get("username")]
        users = User.objects.filter(username__in=usernames).prefetch_related("groups")
        # Locked so a concurrent edit cannot slip between this check and the write.
        self.users = {user.username: user for user in
                      (users.select_for_update() if self.lock else users)}
        self.lowered = dict(User.objects.annotate(lowered=Lower("username"))
                            .filter(lowered__in=[name.lower() for name in usernames])
                            .values_list("lowered", "username"))
        extensions = [c["extension"] for c in self.cleaned.values() if c.get("extension")]
        phones = Phone.objects.filter(extension__in=extensions)
        self.phones = {phone.extension: phone for phone in
                       (phones.select_for_update() if self.lock else phones)}
        self.owners = dict(User.objects.filter(phones__extension__in=extensions)
                           .values_list("phones__extension", "username"))
        self.orphans = set(PsEndpoint.objects.filter(id__in=extensions)
                           .values_list("id", flat=True))
        self.servers = {server.name: server for server in AsteriskServer.objects.all()}

    def _role_of(self, user: User | None) -> str:
        names = {group.name for group in user.groups.all()} if user else set()
        return next((role for role in ROLES if role in names), ADMIN if user and
                    user.is_superuser else AGENT)

    def _row(self, line: int, data: dict) -> UserRow | None:
        username = data.get("username")
        if not username:
            return None
        user = self.users.get(username)
        result = UserRow(line=line, username=username, user=user)
        if user is None and username.lower() in self.lowered:
            self.add(line, "username", username, f"username: {self.lowered[username.lower()]} "
                     "already exists; usernames that differ only in case are refused.")
        if user is not None and user.is_superuser and not self.actor.is_superuser:
            self.add(line, "username", username,
                     f"username: {username} is a superuser; only a superuser can change it.")
        result.role = data.get("role") or self._role_of(user)
        if user is not None and user.pk == self.actor.pk and result.role != ADMIN:
            self.add(line, "role", result.role,
                     "role: you cannot take the Admin role from your own account.")
        for name in NAME_FIELDS:
            in_file = name in self.header or (name != "email" and "name" in self.header)
            if in_file and name in data and (data[name] or user is None):
                result.values[name] = data[name]
        if user is not None:
            result.values = {name: value for name, value in result.values.items()
                             if getattr(user, name) != value}
        self._extension(result, data)
        return result

    def _extension(self, result: UserRow, data: dict) -> None:
        extension, line = data.get("extension"), result.line
        if not extension:
            return
        result.extension = extension
        if result.role != AGENT:
            self.add(line, "extension", extension, "extension: only a user with the Agent "
                                                   "role can have an extension.")
        if result.user is not None and not result.user.is_active:
            self.add(line, "extension", extension, f"extension: {result.username} is "
                                                   "deactivated; activate them first.")
        phone = self.phones.get(extension)
        if phone is not None:
            owner = self.owners.get(extension)
            if owner and owner != result.username:
                self.add(line, "extension", extension,
                         f"extension: {extension} belongs to {owner}; free it first.")
            elif not owner:
                result.phone = phone
            return
        if extension in self.orphans:
            self.add(line, "extension", extension,
                     f"extension: Asterisk already has an endpoint named {extension} that no "
                     "extension owns; remove it first.")
        server_name = data.get("server")
        if server_name:
            result.new_phone_server = self.servers.get(server_name)
            if result.new_phone_server is None:
                self.add(line, "server", server_name,
                         f"server: no Asterisk server is named {server_name!r}.")
        elif len(self.servers) == 1:
            result.new_phone_server = next(iter(self.servers.values()))
        else:
            self.add(line, "server", "", f"server: name the server of new extension "
                                         f"{extension} (there are {len(self.servers)}).")
        if problem := display_name_problem(_phone_name(result)):
            self.add(line, "name", _phone_name(result), f"name: as the extension's name: "
                                                        f"{problem}")

    def _plan(self) -> ImportPlan:
        rows = {line: self._row(line, data) for line, data in self.cleaned.items()}
        plan = ImportPlan(problems=sorted((p for ps in self.problems.values() for p in ps),
                                          key=lambda p: p.line or 0))
        for row in self.rows:
            result = rows[row.line]
            if self.problems.get(row.line) or result is None:
                continue
            if result.user is None:
                plan.created.append(result)
            elif (result.values or result.role != self._role_of(result.user) or result.phone
                  or result.new_phone_server):
                plan.updated.append(result)
            else:
                plan.unchanged.append(result)
        plan.seal([result.facts() for result in plan.created + plan.updated])
        plan.line_facts = {result.line: result.facts()
                           for result in sorted(plan.created + plan.updated,
                                                key=lambda result: result.line)}
        return plan


def _phone_name(row: UserRow) -> str:
    """A new extension is named after its agent, as the user form's free extension is."""
    user = row.user
    first = row.values.get("first_name", user.first_name if user else "")
    last = row.values.get("last_name", user.last_name if user else "")
    return f"{first} {last}".strip()[:80] or row.username[:80]


def user_csv_table(data: bytes) -> Table:
    """The file read as the import's columns; raises CsvRefused for one that cannot be."""
    table = table_read(data, columns=CSV_COLUMNS, required=CSV_REQUIRED,
                       max_bytes=CSV_MAX_BYTES, max_rows=CSV_MAX_ROWS)
    if "name" in table.header and {"first_name", "last_name"} & set(table.header):
        raise CsvRefused([Problem(1, "", "name", "Use either name or first_name and "
                                                 "last_name, not both.")])
    return table


def user_csv_check(*, data: bytes | None = None, table: Table | None = None, actor: User,
                   lock: bool = False, progress: Callable[..., None] | None = None
                   ) -> ImportPlan:
    """The dry run: what importing `data` (or its `table`) would do, writing nothing."""
    table = table or user_csv_table(data)
    plan = _Check(table.rows, table.header, actor=actor, lock=lock, progress=progress).run()
    plan.delimiter = table.delimiter
    return plan


def user_csv_write_batch(*, table: Table, lines: list[int], expected: dict,
                         actor: User) -> ImportPlan:
    """Write the rows of `lines` (one batch of the background job) in the caller's
    transaction: checked again with their rows locked, refused (BatchChanged, nothing of the
    batch written) unless they write exactly `expected`, the facts the job's plan stored."""
    wanted = set(lines)
    rows = [row for row in table.rows if row.line in wanted]
    plan = _Check(rows, table.header, actor=actor, lock=True).run()
    batch_check(plan, lines, expected)
    _write_all(plan)
    return plan


def user_csv_import(*, data: bytes, actor: User, fingerprint: str | None = None) -> ImportPlan:
    """Create or update the good rows' users, their role and extension, in one transaction;
    with the dry run's `fingerprint`, refuse (PlanChanged, nothing written) a different plan."""
    with transaction.atomic():
        plan = user_csv_check(data=data, actor=actor, lock=True)
        if fingerprint is not None and plan.fingerprint != fingerprint:
            raise PlanChanged(plan)
        _write_all(plan)
    return plan


def _write_all(plan: ImportPlan) -> None:
    for row in plan.created + plan.updated:
        try:
            _write(row)
        except ServiceError as exc:
            # Checked above with the rows locked, so only a rule the check does not know.
            raise CsvRefused([Problem(row.line, "", row.username, exc.message)]) from None


def _write(row: UserRow) -> None:
    if row.user is None:
        user = user_create(role=row.role, password=None, username=row.username, **row.values)
    else:
        user = user_update(user=row.user, role=row.role, **row.values)
    if row.new_phone_server is not None:
        if row.user is not None:
            phone_assign(user=user, phone=None)  # frees the agent's old extension first
        # Created with its agent: one save (and one write of its realtime rows), not two.
        phone_create(extension=row.extension, name=_phone_name(row),
                     server=row.new_phone_server, user=user)
    elif row.phone is not None:
        phone_assign(user=user, phone=row.phone)
