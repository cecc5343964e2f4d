"""The test database between integration tests: emptied after each one, cheaply.

Asterisk reads the tables over its own connection, so these tests commit (no wrapping
transaction). pytest-django's `transactional_db` then empties the database with Django's
`flush`, which on PostgreSQL is one TRUNCATE of every table: about 1 s here whatever the tables
hold (PostgreSQL makes a new file for each of the 44), 1.4 s of teardown per test, a quarter of
the suite's wall time. DELETE of the same few rows takes milliseconds. `empty_tables()` does
what the flush does (every table of every installed app emptied, then post_migrate, which puts
back content types, permissions and the role groups), by DELETE.
"""

from __future__ import annotations

from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connection, transaction


def _sealed_table() -> str:
    from telephony.models import DialAttempt

    return DialAttempt._meta.db_table


def empty_tables() -> None:
    sealed = _sealed_table()
    quote = connection.ops.quote_name
    tables = connection.introspection.django_table_names(only_existing=True,
                                                         include_views=False)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")  # as Django's own flush does there
        else:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # checked at commit, all gone by then
        for table in tables:
            if table != sealed:
                cursor.execute(f"DELETE FROM {quote(table)}")
        if connection.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    with connection.cursor() as cursor:
        # The attempt ledger's triggers refuse DELETE of a closed row (migration 0007):
        # TRUNCATE, as an operator's retention job would, which row triggers do not see.
        cursor.execute(f"SELECT 1 FROM {quote(sealed)} LIMIT 1")
        if cursor.fetchone():
            cursor.execute(f"TRUNCATE TABLE {quote(sealed)}")
    emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)
