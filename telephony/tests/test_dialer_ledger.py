"""The compliance ledger is append-only once an attempt is sealed: the model refuses, and so
does the database itself (a trigger on PostgreSQL, MariaDB and SQLite) for raw SQL."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from telephony.models import DialAttempt, LedgerSealed

pytestmark = pytest.mark.django_db


def attempt(**values) -> DialAttempt:
    defaults = dict(campaign_id=1, lead_id=7, phone_number="+15555550101",
                    created_at=timezone.now())
    return DialAttempt.objects.create(**{**defaults, **values})


def sealed() -> DialAttempt:
    row = attempt()
    row.status = DialAttempt.Status.NO_ANSWER
    row.ended_at = row.closed_at = timezone.now()
    row.save()
    return row


def raw(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_open_attempt_can_be_filled_in_and_then_sealed():
    row = attempt()
    row.status = DialAttempt.Status.RINGING
    row.save()
    DialAttempt.objects.filter(pk=row.pk).update(status=DialAttempt.Status.BUSY,
                                                 closed_at=timezone.now())
    row.refresh_from_db()
    assert row.status == "busy" and row.closed_at is not None


def test_the_model_refuses_to_change_a_sealed_attempt():
    row = sealed()
    row.disposition = "SALE"
    with pytest.raises(LedgerSealed):
        row.save()
    with pytest.raises(LedgerSealed):
        DialAttempt.objects.filter(pk=row.pk).update(disposition="SALE")
    row.refresh_from_db()
    assert row.disposition == ""


def test_the_model_never_deletes_an_attempt():
    row = sealed()
    with pytest.raises(LedgerSealed):
        row.delete()
    with pytest.raises(LedgerSealed):
        DialAttempt.objects.all().delete()
    assert DialAttempt.objects.filter(pk=row.pk).exists()


def test_the_database_refuses_a_raw_update_of_a_sealed_attempt():
    row = sealed()
    table = DialAttempt._meta.db_table
    with pytest.raises(DatabaseError):
        raw(f"UPDATE {table} SET disposition = %s WHERE id = %s", "SALE", row.pk.hex
            if connection.vendor != "postgresql" else str(row.pk))
    row.refresh_from_db()
    assert row.disposition == ""


def test_the_database_refuses_a_raw_delete_of_a_sealed_attempt():
    row = sealed()
    table = DialAttempt._meta.db_table
    with pytest.raises(DatabaseError):
        raw(f"DELETE FROM {table}")
    assert DialAttempt.objects.filter(pk=row.pk).exists()


def test_the_database_lets_an_open_attempt_change():
    row = attempt()
    table = DialAttempt._meta.db_table
    key = str(row.pk) if connection.vendor == "postgresql" else row.pk.hex
    raw(f"UPDATE {table} SET status = %s WHERE id = %s", "ringing", key)
    row.refresh_from_db()
    assert row.status == "ringing"


def test_ids_are_ours_and_unique():
    first, second = attempt(), attempt()
    assert isinstance(first.pk, uuid.UUID) and first.pk != second.pk
