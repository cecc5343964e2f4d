"""Verify that the database Asterisk reads has what Asterisk needs.

Each check returns a `Check(ok, title, detail)`; the setup_asterisk_realtime command prints one
line per check and fails if any failed. The checks read the real tables through Django's
introspection, not the models, because what matters is what a migration (or a DBA) left there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from telephony.asterisk.realtime_schema import PS_CONTACTS, TABLES

SUPPORTED_VENDORS = ("postgresql", "mysql")


@dataclass(frozen=True)
class Check:
    ok: bool
    title: str
    detail: str = ""


def check_engine() -> Check:
    vendor = connection.vendor
    if vendor in SUPPORTED_VENDORS:
        name = "PostgreSQL" if vendor == "postgresql" else "MySQL/MariaDB"
        return Check(True, f"database engine is {name}")
    return Check(
        False,
        f"database engine is {vendor}: Asterisk cannot use it",
        "Asterisk Realtime reads its tables over ODBC, which supports PostgreSQL and "
        "MySQL/MariaDB, not SQLite. Set DATABASE_URL, e.g. "
        "DATABASE_URL=postgres://autodialer:secret@127.0.0.1:5432/autodialer, "
        "run `python manage.py migrate`, then run this command again.",
    )


def _has_id_index(constraints: dict) -> bool:
    return any(
        c["columns"] == ["id"] and (c["primary_key"] or c["unique"] or c["index"])
        for c in constraints.values()
    )


def check_tables() -> list[Check]:
    checks: list[Check] = []
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for table, columns in TABLES.items():
            if table not in existing:
                checks.append(Check(False, f"table {table} is missing",
                                    "Run `python manage.py migrate`."))
                continue
            description = connection.introspection.get_table_description(cursor, table)
            have = {col.name: col for col in description}
            missing = [c.name for c in columns if c.name not in have]
            if missing:
                checks.append(Check(
                    False, f"table {table} lacks column(s) {', '.join(missing)}",
                    "Asterisk 22 reads these columns; run `python manage.py migrate` or restore "
                    "them (compare with docs/asterisk-realtime.md)."))
            else:
                checks.append(Check(True, f"table {table} has all {len(columns)} columns"))
            if table == "ps_contacts":
                checks.append(_check_contacts_extras(have))
            constraints = connection.introspection.get_constraints(cursor, table)
            if table != "extensions_table" and not _has_id_index(constraints):
                checks.append(Check(False, f"table {table} has no index on id",
                                    "Asterisk looks every object up by id; add a unique index."))
    return checks


def _check_contacts_extras(have: dict) -> Check:
    # Asterisk INSERTs into ps_contacts itself: an extra NOT NULL column it does not fill makes
    # every registration fail silently while the phone still sees 200 OK.
    known = {c.name for c in PS_CONTACTS}
    extras = [name for name, col in have.items() if name not in known and not col.null_ok]
    if extras:
        return Check(False, f"table ps_contacts has NOT NULL column(s) Asterisk does not fill: "
                            f"{', '.join(extras)}", "Drop them or make them nullable.")
    return Check(True, "table ps_contacts has no extra NOT NULL columns")


def check_sample_phone() -> Check:
    from telephony.models import Phone, PsAor, PsAuth, PsEndpoint

    phone = Phone.objects.filter(is_active=True).order_by("extension").first()
    if phone is None:
        return Check(True, "no active extension yet: nothing to sample",
                     "Create one under Telephony → Extensions.")
    ext = phone.extension
    problems = []
    endpoint = PsEndpoint.objects.filter(id=ext).first()
    auth = PsAuth.objects.filter(id=ext).first()
    aor = PsAor.objects.filter(id=ext).first()
    if endpoint is None:
        problems.append("ps_endpoints row missing")
    else:
        for column in ("transport", "aors", "auth", "context", "allow"):
            if not getattr(endpoint, column):
                problems.append(f"ps_endpoints.{column} is empty")
    if auth is None:
        problems.append("ps_auths row missing")
    elif auth.auth_type != "userpass" or not auth.username or not auth.password:
        problems.append("ps_auths needs auth_type=userpass, username and password")
    if aor is None:
        problems.append("ps_aors row missing")
    elif not aor.max_contacts or aor.max_contacts < 1:
        problems.append("ps_aors.max_contacts must be at least 1 (else REGISTER gets 403)")
    if problems:
        return Check(False, f"extension {ext} rows are incomplete: {'; '.join(problems)}",
                     "Run this command with --sync-existing to rewrite them.")
    return Check(True, f"extension {ext} has complete ps_endpoints, ps_auths and ps_aors rows")


def run_checks() -> list[Check]:
    engine = check_engine()
    if not engine.ok:
        return [engine]
    return [engine, *check_tables(), check_sample_phone()]
