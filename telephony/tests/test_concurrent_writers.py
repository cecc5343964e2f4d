"""Two processes writing the same row at once must both succeed, one after the other.

In production the event listener updates a Call while a web request updates the same Call (the
agent hangs up as Asterisk reports the answer). Each does read-then-write in a transaction. On
PostgreSQL and MariaDB `select_for_update` makes the second one wait; on SQLite (the embedded
default) the settings must make it wait too, instead of failing with "database is locked".
"""

import threading

import pytest
from django.db import connection, transaction

from telephony.models import AsteriskServer


def _server() -> AsteriskServer:
    return AsteriskServer.objects.create(
        name="pbx1", host="10.0.0.5", ami_host="10.0.0.5", ami_username="u", ami_password="p",
        ari_host="10.0.0.5", ari_username="u", ari_password="p",
    )


@pytest.mark.django_db(transaction=True)
def test_two_read_modify_write_transactions_on_one_row_both_commit():
    server = _server()
    first_has_read = threading.Event()
    errors: list[BaseException] = []

    def append(text: str, hold: threading.Event | None):
        try:
            with transaction.atomic():
                row = AsteriskServer.objects.select_for_update().get(pk=server.pk)
                if hold is not None:
                    hold.set()  # the other writer starts while this one holds its read
                    threading.Event().wait(0.3)
                row.connection_message += text
                row.save(update_fields=["connection_message"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=append, args=("a", first_has_read))
    second = threading.Thread(target=lambda: (first_has_read.wait(5), append("b", None)))
    first.start()
    second.start()
    first.join(10)
    second.join(10)

    assert errors == []
    server.refresh_from_db()
    # Both writes landed and neither overwrote the other: the second read what the first wrote.
    assert sorted(server.connection_message) == ["a", "b"]
