"""Verify that the database Asterisk reads has what Asterisk needs.

Each check returns a `Check(ok, title, detail)`; the setup_asterisk_realtime command prints one
line per check and fails if any failed. The checks read the real tables (Django's introspection,
information_schema, PostgreSQL's catalog), not the models, because what matters is what a
migration (or a DBA) left there. The column types expected are Asterisk's own
(`realtime_schema.py`), so a yes/no column is whatever Asterisk declares as `ast_bool_values`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from telephony.asterisk.realtime_schema import PS_CONTACTS, TABLES, Column
from telephony.asterisk.values import AST_TRUE, ODBC_SPECIAL
from telephony.models import Phone, PsAor, PsAuth, PsEndpoint

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


# -- column types and indexes, read from the database's catalog -------------------------------

# information_schema.columns.data_type values that hold Asterisk's strings. A PostgreSQL column
# of Asterisk's own enum type (its alembic schema) reads as USER-DEFINED and is accepted below.
_STRING_TYPES = {
    "postgresql": {"character varying", "character", "text"},
    "mysql": {"varchar", "char", "text", "tinytext", "mediumtext", "longtext", "enum"},
}


@dataclass(frozen=True)
class _DbColumn:
    data_type: str  # information_schema data_type: "boolean", "character varying", "tinyint"
    type_name: str  # what to show: PostgreSQL's udt_name, MySQL's column_type ("tinyint(1)")


def _catalog_columns() -> dict[tuple[str, str], _DbColumn]:
    """{(table, column): type} of every realtime table, from information_schema."""
    tables = list(TABLES)
    placeholders = ", ".join(["%s"] * len(tables))
    if connection.vendor == "postgresql":
        sql = ("SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns"
               f" WHERE table_schema = current_schema() AND table_name IN ({placeholders})")
    else:
        sql = ("SELECT table_name, column_name, data_type, column_type"
               " FROM information_schema.columns"
               f" WHERE table_schema = DATABASE() AND table_name IN ({placeholders})")
    with connection.cursor() as cursor:
        cursor.execute(sql, tables)
        rows = cursor.fetchall()
    return {(table, column): _DbColumn(data_type.lower(), type_name)
            for table, column, data_type, type_name in rows}


def _is_string(found: _DbColumn, expected: Column) -> bool:
    if found.data_type in _STRING_TYPES[connection.vendor]:
        return True
    # Asterisk's own PostgreSQL schema declares its enums as types (ast_bool_values, ...).
    return found.data_type == "user-defined" and found.type_name == expected.enum


def _shown_type(found: _DbColumn) -> str:
    if connection.vendor == "mysql" or found.data_type == "user-defined":
        return found.type_name
    return found.data_type


def check_id_columns(columns: dict[tuple[str, str], _DbColumn] | None = None) -> list[Check]:
    """Every PJSIP table's id is a string: it is the object's name ("1001", "trunk-acme").

    extensions_table is left out: Asterisk's own schema gives it a bigint id (the switch looks rows
    up by context, exten and priority).
    """
    columns = _catalog_columns() if columns is None else columns
    checks, checked = [], 0
    for table, expected in TABLES.items():
        wanted = next((c for c in expected if c.name == "id"), None)
        found = columns.get((table, "id"))
        if wanted is None or wanted.kind != "varchar" or found is None:
            continue  # a missing table or column is reported by check_tables
        checked += 1
        if _is_string(found, wanted):
            continue
        checks.append(Check(
            False, f"{table}.id is {_shown_type(found)}, not a varchar: Asterisk names each "
                   f"object by its id",
            f"With an integer id the object is called `1` (PostgreSQL even fails with "
            f"`operator does not exist: integer ~~ unknown`). Make it varchar({wanted.length}) "
            f"NOT NULL, as `python manage.py migrate` creates it: "
            f"{_alter_to_varchar_sql(table, 'id', wanted.length, not_null=True)} then run "
            f"this command with --sync-existing."))
    if not checks and checked:
        checks.append(Check(True, f"the id of all {checked} PJSIP tables is a varchar"))
    return checks


def check_yes_no_columns(columns: dict[tuple[str, str], _DbColumn] | None = None) -> list[Check]:
    """Asterisk's yes/no columns (its enum ast_bool_values) hold strings, never booleans.

    A boolean breaks them both ways: PostgreSQL refuses what Asterisk writes into ps_contacts, and
    MariaDB stores the app's True as '0', which Asterisk reads as "no".
    """
    columns = _catalog_columns() if columns is None else columns
    checks, checked = [], 0
    for table, expected in TABLES.items():
        for column in expected:
            found = columns.get((table, column.name))
            if column.enum != "ast_bool_values" or found is None:
                continue
            checked += 1
            if _is_string(found, column):
                continue
            checks.append(Check(
                False, f"{table}.{column.name} is {_shown_type(found)}, not a yes/no string",
                f"Asterisk reads and writes 'yes'/'no' there (its enum ast_bool_values). Make it "
                f"varchar(3), as `python manage.py migrate` creates it: "
                f"{_alter_to_varchar_sql(table, column.name, 3, yes_no=True)} then run this "
                f"command with --sync-existing."))
    if not checks and checked:
        checks.append(Check(True, f"all {checked} yes/no columns are strings, not booleans"))
    return checks


def _alter_to_varchar_sql(table: str, column: str, length: int, *, not_null: bool = False,
                          yes_no: bool = False) -> str:
    qn = connection.ops.quote_name
    if connection.vendor == "mysql":
        # '0'/'1' survive the conversion, and Asterisk reads those as no/yes.
        null = "NOT NULL" if not_null else "NULL"
        return f"ALTER TABLE {qn(table)} MODIFY {qn(column)} varchar({length}) {null};"
    if not_null:
        # A Django auto id is an identity column (or serial) on PostgreSQL: neither survives the
        # type change, and NOT NULL stays as it is.
        return (f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(column)} DROP IDENTITY IF EXISTS; "
                f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(column)} DROP DEFAULT, "
                f"ALTER COLUMN {qn(column)} TYPE varchar({length});")
    using = ""
    if yes_no:
        # NULL stays NULL (Asterisk's default); booleans and 0/1 integers become no/yes.
        using = (f" USING CASE WHEN {qn(column)}::boolean THEN 'yes'"
                 f" WHEN NOT {qn(column)}::boolean THEN 'no' END")
    return f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(column)} TYPE varchar({length}){using};"


# Operator classes and collations with which a btree index serves `LIKE 'prefix%'` on PostgreSQL.
_PATTERN_OPCLASSES = {"varchar_pattern_ops", "text_pattern_ops", "bpchar_pattern_ops"}
_C_COLLATIONS = {"C", "POSIX"}


def check_contacts_like_index() -> list[Check]:
    """On PostgreSQL, ps_contacts.id has an index that serves Asterisk's `id LIKE '1001;@%'`.

    Asterisk finds an AOR's contacts on every REGISTER and every call with that prefix LIKE; an
    ordinary btree under a non-C collation cannot serve it, so each one scans the table. Django
    creates `ps_contacts_id_<hash>_like` (varchar_pattern_ops) with the varchar primary key.
    MySQL/MariaDB serve a prefix LIKE from the primary key itself: nothing to check there.
    """
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        if "ps_contacts" not in connection.introspection.table_names(cursor):
            return []  # reported by check_tables
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        database_collation = cursor.fetchone()[0]
        # Whole-column btree indexes whose first column is id: operator class and collation.
        cursor.execute("""
            SELECT i.relname, opc.opcname, coll.collname
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_am am ON am.oid = i.relam
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
            JOIN pg_opclass opc ON opc.oid = x.indclass[0]
            LEFT JOIN pg_collation coll ON coll.oid = x.indcollation[0]
            WHERE t.relname = 'ps_contacts' AND t.relnamespace = current_schema()::regnamespace
              AND a.attname = 'id' AND am.amname = 'btree' AND x.indpred IS NULL
        """)
        indexes = cursor.fetchall()
    for name, opclass, collation in indexes:
        if (opclass in _PATTERN_OPCLASSES or collation in _C_COLLATIONS
                or (collation == "default" and database_collation in _C_COLLATIONS)):
            return [Check(True, f"ps_contacts.id has an index for Asterisk's prefix LIKE "
                                f"lookups ({name})")]
    return [Check(
        False, "ps_contacts.id has no index that serves a prefix LIKE: every contact lookup "
               "scans the table",
        "Asterisk finds an AOR's contacts with `id LIKE '1001;@%'`; on PostgreSQL only a "
        "varchar_pattern_ops (or C-collation) index serves it, as `python manage.py migrate` "
        "creates it: CREATE INDEX ps_contacts_id_like ON ps_contacts (id varchar_pattern_ops);")]


def check_sample_phone() -> Check:
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
    elif set(auth.password) & ODBC_SPECIAL:
        problems.append("ps_auths.password contains ';' or '^', which res_config_odbc splits "
                        "or decodes, so the phone's password never matches (give the "
                        "extension a new password)")
    if aor is None:
        problems.append("ps_aors row missing")
    else:
        if not aor.max_contacts or aor.max_contacts < 1:
            problems.append("ps_aors.max_contacts must be at least 1 (else REGISTER gets 403)")
        if (aor.remove_existing or "").lower() not in AST_TRUE:
            problems.append("ps_aors.remove_existing must be yes (else a phone registering "
                            "from a new address gets 403 until its old contact expires)")
    if problems:
        return Check(False, f"extension {ext} rows are incomplete: {'; '.join(problems)}",
                     "Run this command with --sync-existing to rewrite them.")
    return Check(True, f"extension {ext} has complete ps_endpoints, ps_auths and ps_aors rows")


def run_checks() -> list[Check]:
    engine = check_engine()
    if not engine.ok:
        return [engine]
    checks = [engine, *check_tables()]
    columns = _catalog_columns()
    checks += check_id_columns(columns)
    checks += check_yes_no_columns(columns)
    checks += check_contacts_like_index()
    return [*checks, check_sample_phone()]
