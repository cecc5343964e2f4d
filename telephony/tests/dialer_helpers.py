"""Shared by the dialer's tests: the ARI fake with our client and the events handled so far,
an agent made ready in session, and emptying the append-only ledger after a test that
commits."""

from __future__ import annotations

import importlib

from django.db import connection

from telephony.asterisk.ari import AriClient
from telephony.dialer.events import handle_event
from telephony.dialer.sessions import agent_session_start
from telephony.models import AgentSession, DialAttempt
from telephony.services.asterisk import ari_config_for


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


class Line:
    """The ARI fake, our client to it, and the events it sent that we have handled."""

    def __init__(self, fake, server) -> None:
        self.fake, self.server = fake, server
        self.client = AriClient(ari_config_for(server))
        self.handled = 0

    def deliver(self, *, now=None) -> None:
        while self.handled < len(self.fake.events_sent):
            event = self.fake.events_sent[self.handled]
            self.handled += 1
            handle_event(self.server, event, self.client, now=now)

    def replay_all(self) -> None:
        for event in list(self.fake.events_sent):
            handle_event(self.server, event, self.client)


def ready_session(line, user, campaign) -> AgentSession:
    session = agent_session_start(agent=user, campaign=campaign)
    line.fake.answer(str(session.pk))
    line.deliver()
    session.refresh_from_db()
    return session
