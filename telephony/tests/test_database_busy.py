"""Every wait on the database is bounded (issue 11, item 4): with a real lock held from a second
connection (as Asterisk or a migration would), saving an extension and the agent panel's
registration poll answer "the database is busy, nothing was changed" within DB_LOCK_TIMEOUT,
and nothing is changed. Runs on PostgreSQL and MariaDB (the lock timeouts of both servers) and
on SQLite (its busy timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from telephony.models import Phone, PsContact, PsEndpoint
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_settings_bound_every_wait_on_the_connection():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == f"{settings.DB_LOCK_TIMEOUT}s"
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == f"{settings.DB_STATEMENT_TIMEOUT}s"
        elif connection.vendor == "mysql":
            cursor.execute("SELECT @@innodb_lock_wait_timeout, @@lock_wait_timeout, "
                           "@@max_statement_time")
            assert cursor.fetchone() == (settings.DB_LOCK_TIMEOUT, settings.DB_LOCK_TIMEOUT,
                                         float(settings.DB_STATEMENT_TIMEOUT))
        else:
            assert connection.settings_dict["OPTIONS"]["timeout"] == settings.DB_LOCK_TIMEOUT


@contextmanager
def held_by_another_connection(lock: Callable[[], None]) -> Iterator[None]:
    """Run `lock` in a transaction of a second connection (another thread) and hold it."""
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                lock()
                locked.set()
                release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            locked.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    assert errors == []
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def _lock_endpoint_row() -> None:
    if connection.vendor == "sqlite":  # no row locks: BEGIN IMMEDIATE plus a write holds it all
        PsEndpoint.objects.filter(id="1001").update(context="agents")
    else:
        list(PsEndpoint.objects.select_for_update().filter(id="1001"))


def _lock_contacts_table() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # what ALTER TABLE in a migration takes
            cursor.execute("LOCK TABLE ps_contacts IN ACCESS EXCLUSIVE MODE")
        elif connection.vendor == "mysql":
            cursor.execute("LOCK TABLES ps_contacts WRITE")
        else:
            PsContact.objects.create(id="x", endpoint="1001", uri="sip:x@10.0.0.1")


@pytest.fixture
def phone(agent) -> Phone:
    return Phone.objects.create(extension="1001", name="Desk", server=make_server(), user=agent)


def test_saving_an_extension_against_a_locked_row_says_the_database_is_busy(admin_user, phone):
    client = Client()
    client.force_login(admin_user)
    data = {"extension": "1001", "name": "Renamed", "server": str(phone.server_id),
            "context": "agents", "codecs": ["ulaw"], "transport": "transport-udp",
            "max_contacts": "1", "caller_id_name": "", "caller_id_number": "",
            "user": "", "is_active": "on", "new_secret": ""}
    before = PsEndpoint.objects.get(id="1001").allow
    with held_by_another_connection(_lock_endpoint_row):
        started = time.monotonic()
        response = client.post(reverse("telephony:phone_edit", args=[phone.pk]), data)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "The database is busy" in response.content.decode()
    assert "nothing was changed" in response.content.decode()
    assert elapsed < settings.DB_LOCK_TIMEOUT + 3
    phone.refresh_from_db()
    assert phone.name == "Desk" and phone.user is not None  # nothing was changed
    assert PsEndpoint.objects.get(id="1001").allow == before


def test_the_agent_panel_poll_against_a_locked_table_says_so_in_json(agent, phone):
    client = Client()
    client.force_login(agent)
    with held_by_another_connection(_lock_contacts_table):
        started = time.monotonic()
        response = client.get(reverse("telephony:agent_registration"))
        elapsed = time.monotonic() - started
    if connection.vendor == "sqlite":
        # SQLite readers are not blocked by a writer (WAL): the poll simply answers.
        assert response.status_code == 200
        return
    assert response.status_code == 503
    assert response.json()["code"] == "database_busy"
    assert "nothing was changed" in response.json()["error"]
    assert elapsed < settings.DB_LOCK_TIMEOUT + 3
