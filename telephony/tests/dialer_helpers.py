"""Shared by the dialer's tests: emptying the append-only ledger after a test that commits."""

from __future__ import annotations

import importlib

from django.db import connection

from telephony.models import DialAttempt


def ledger_clear() -> None:
    """Empty the attempt ledger after a transactional test (live server, browser). Its
    triggers refuse DELETE of a sealed row, and Django flushes SQLite and MariaDB tables with
    DELETE (PostgreSQL with TRUNCATE, which row triggers do not see): MariaDB takes TRUNCATE
    too, as an operator's retention job would; SQLite has none, so its delete trigger is
    dropped for the DELETE and put back exactly as migration 0007 made it."""
    table = DialAttempt._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"TRUNCATE TABLE {table}")
        elif connection.vendor == "sqlite":
            ledger = importlib.import_module("telephony.migrations.0007_dialer_sessions_and_ledger")
            cursor.execute("DROP TRIGGER dialattempt_no_delete")
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(next(sql for sql in ledger._SQL["sqlite"]
                                if "dialattempt_no_delete" in sql))
