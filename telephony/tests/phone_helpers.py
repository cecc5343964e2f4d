"""Helpers for the extension (phone) tests: a server, full realtime rows, injected DB failures."""

from __future__ import annotations

import contextlib

from django.db import connection

from telephony.models import AsteriskServer, PsAor, PsAuth, PsContact, PsEndpoint

REALTIME = {"ps_aors": PsAor, "ps_auths": PsAuth, "ps_endpoints": PsEndpoint}


def make_server(name: str = "pbx1", **extra) -> AsteriskServer:
    values = {"host": "pbx.example.com", "ami_host": "127.0.0.1", "ami_username": "admin",
              "ami_password": "ami-secret-1", "ari_host": "127.0.0.1", "ari_username": "ari",
              "ari_password": "ari-secret-1", **extra}
    return AsteriskServer.objects.create(name=name, **values)


def full_row(table: str, ident: str) -> dict | None:
    """Every column of one realtime row by its database name (NULLs included), or None."""
    model = REALTIME[table]
    obj = model.objects.filter(id=ident).first()
    if obj is None:
        return None
    return {field.column: getattr(obj, field.attname) for field in model._meta.concrete_fields}


def expected_row(table: str, values: dict) -> dict:
    """A full row: the given columns, NULL everywhere else (NULL = Asterisk's default)."""
    model = REALTIME[table]
    row = {field.column: None for field in model._meta.concrete_fields}
    row.update(values)
    return row


def realtime_snapshot() -> dict:
    """Everything in the tables a phone change touches, to prove "nothing changed"."""
    snapshot = {}
    for table in REALTIME:
        snapshot[table] = sorted(
            tuple(sorted(row.items())) for row in REALTIME[table].objects.values()
        )
    snapshot["ps_contacts"] = sorted(PsContact.objects.values_list("id", flat=True))
    return snapshot


def add_contact(extension: str, *, expires: int, suffix: str = "a97f39d9e3", **extra) -> PsContact:
    """A ps_contacts row shaped like the ones Asterisk 22 writes on REGISTER."""
    values = {"uri": f"sip:{extension}@192.0.2.10:5070", "expiration_time": expires,
              "qualify_frequency": 60, "user_agent": "MicroSIP/3.21.3", "qualify_timeout": 3.0,
              "authenticate_qualify": "no", "via_addr": "192.0.2.10", "via_port": 5070,
              "call_id": "1-8818@192.0.2.10", "endpoint": extension, "prune_on_boot": "no",
              "qualify_2xx_only": "false", **extra}
    return PsContact.objects.create(id=f"{extension}^3B@{suffix}", **values)


_TRIGGER = "inject_failure"


@contextlib.contextmanager
def failing_writes(table: str, event: str = "INSERT"):
    """Make the database itself refuse `event` on `table` with a trigger, so the failure happens
    half-way through our writes without patching any of our code."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE {event} ON {table} "
                           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
        elif vendor == "postgresql":
            cursor.execute(f"CREATE FUNCTION {_TRIGGER}() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE {event} ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION {_TRIGGER}()")
        elif vendor == "mysql":
            cursor.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE {event} ON {table} FOR EACH ROW "
                           "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'")
        else:  # pragma: no cover
            raise RuntimeError(f"no failure injection for {vendor}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER {_TRIGGER} ON {table}")
                cursor.execute(f"DROP FUNCTION {_TRIGGER}()")
            else:
                cursor.execute(f"DROP TRIGGER {_TRIGGER}")
