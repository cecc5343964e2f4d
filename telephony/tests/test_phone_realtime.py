"""Saving, renaming, (de)activating and deleting a phone leaves exactly the ps_* rows Asterisk
needs (docs/asterisk-behaviour.md), read back from the tables; a failure half-way leaves nothing
changed."""

import time
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from telephony.asterisk.values import GENERATED_SECRET_LENGTH, secret_generate, secret_problem
from telephony.models import Phone, PsContact, PsEndpoint
from telephony.realtime.phones import phone_unsync, realtime_rows_for
from telephony.realtime.registration import registration_status
from telephony.services.phone_csv import phone_csv_import
from telephony.services.phones import phone_bulk_create
from telephony.tests.phone_helpers import (
    add_contact,
    expected_row,
    failing_writes,
    full_row,
    make_server,
    realtime_snapshot,
)

pytestmark = pytest.mark.django_db


def rows_of(phone: Phone, *, callerid=None, context="agents", allow="ulaw,alaw",
            transport="transport-udp", max_contacts=1) -> dict:
    ext = phone.extension
    return {
        "ps_aors": expected_row("ps_aors", {
            "id": ext, "max_contacts": max_contacts, "remove_existing": "yes",
            "qualify_frequency": 60}),
        "ps_auths": expected_row("ps_auths", {
            "id": ext, "auth_type": "userpass", "username": ext, "password": phone.secret}),
        "ps_endpoints": expected_row("ps_endpoints", {
            "id": ext, "transport": transport, "aors": ext, "auth": ext, "context": context,
            "disallow": "all", "allow": allow, "callerid": callerid, "direct_media": "no",
            "rtp_symmetric": "yes", "force_rport": "yes", "rewrite_contact": "yes",
            "dtmf_mode": "rfc4733"}),
    }


def read_rows(extension: str) -> dict:
    return {table: full_row(table, extension) for table in ("ps_aors", "ps_auths",
                                                            "ps_endpoints")}


def no_rows(extension: str) -> dict:
    return {"ps_aors": None, "ps_auths": None, "ps_endpoints": None}


def test_creating_a_phone_writes_exactly_the_three_rows(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    assert len(phone.secret) == GENERATED_SECRET_LENGTH
    assert read_rows("1001") == rows_of(phone)


def test_it_writes_the_caller_id_and_chosen_settings(server):
    phone = Phone.objects.create(extension="1002", name="Bob", server=server, context="sales",
                                 codecs="g722,ulaw", transport="transport-tcp", max_contacts=3,
                                 caller_id_name="Bob Smith", caller_id_number="+4420123")
    assert read_rows("1002") == rows_of(
        phone, callerid='"Bob Smith" <+4420123>', context="sales", allow="g722,ulaw",
        transport="transport-tcp", max_contacts=3)


def test_editing_a_phone_rewrites_its_rows(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    phone.codecs = "opus"
    phone.context = "support"
    phone.secret = "Another-Secret-123"
    phone.caller_id_number = "5551234"
    phone.save()
    assert read_rows("1001") == rows_of(phone, allow="opus", context="support",
                                        callerid="<5551234>")
    assert full_row("ps_auths", "1001")["password"] == "Another-Secret-123"


def test_editing_keeps_options_an_admin_set_on_the_endpoint(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    PsEndpoint.objects.filter(id="1001").update(language="fr", rel_100="no")
    phone.codecs = "alaw"
    phone.save()
    row = full_row("ps_endpoints", "1001")
    assert (row["language"], row["100rel"], row["allow"]) == ("fr", "no", "alaw")


def test_renaming_removes_the_old_ids_and_their_contacts(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    add_contact("1001", expires=int(time.time()) + 3600)
    phone.extension = "2001"
    phone.save()
    assert read_rows("1001") == no_rows("1001")
    assert not PsContact.objects.filter(endpoint="1001").exists()
    assert read_rows("2001") == rows_of(phone)


def test_renaming_through_a_fresh_instance_also_removes_the_old_ids(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    other = Phone.objects.get(pk=phone.pk)
    other.extension = "3001"
    other.save()
    assert PsEndpoint.objects.get().id == "3001"


def test_deactivating_removes_the_rows_and_reactivating_writes_them_back(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    add_contact("1001", expires=int(time.time()) + 3600)
    phone.is_active = False
    phone.save()
    assert read_rows("1001") == no_rows("1001")
    assert not PsContact.objects.exists()
    phone.is_active = True
    phone.save()
    assert read_rows("1001") == rows_of(phone)


def test_deleting_removes_rows_and_contacts_asterisk_leaves_behind(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    keep = Phone.objects.create(extension="1002", name="Carol", server=server)
    add_contact("1001", expires=int(time.time()) + 3600)
    add_contact("1002", expires=int(time.time()) + 3600, suffix="c6822cc66b")
    phone.delete()
    assert read_rows("1001") == no_rows("1001")
    assert list(PsContact.objects.values_list("endpoint", flat=True)) == ["1002"]
    assert read_rows("1002") == rows_of(keep)


def test_bulk_create_writes_exact_rows_for_every_phone(server):
    phones = phone_bulk_create(start="0100", end="0149", name_pattern="Agent {ext}",
                               server=server, context="agents", codecs="ulaw")
    assert Phone.objects.count() == PsEndpoint.objects.count() == 50
    saved = {phone.extension: phone for phone in Phone.objects.all()}
    assert saved["0100"].name == "Agent 0100"
    for phone in phones:
        assert read_rows(phone.extension) == rows_of(saved[phone.extension], allow="ulaw")
    assert len({phone.secret for phone in saved.values()}) == 50


def test_csv_import_writes_rows_for_created_and_updated_phones(server):
    existing = Phone.objects.create(extension="1001", name="Old", server=server)
    data = (b"extension,name,server,codecs,caller_id_name,caller_id_number\r\n"
            b'1001,Bob,pbx1,"g722,ulaw",Bob,1001\r\n'
            b"1002,Carol,pbx1,alaw,,\r\n")
    result = phone_csv_import(data=data)
    assert [phone.extension for phone, _before in result.created] == ["1002"]
    assert [phone.extension for phone, _before in result.updated] == ["1001"]
    existing.refresh_from_db()
    assert existing.name == "Bob"
    assert read_rows("1001") == rows_of(existing, allow="g722,ulaw", callerid='"Bob" <1001>')
    assert read_rows("1002") == rows_of(Phone.objects.get(extension="1002"), allow="alaw")


def test_a_value_asterisk_would_split_is_refused_and_nothing_is_saved(server):
    phone = Phone(extension="1001", name="Bob", server=server, secret="se;cret-secret")
    with pytest.raises(ValueError, match="';'"):
        phone.save()
    assert phone.pk is None
    assert not Phone.objects.exists()
    assert not PsEndpoint.objects.exists()


def test_realtime_rows_for_lists_the_non_null_columns_by_database_name(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    PsEndpoint.objects.filter(id="1001").update(rel_100="yes")
    rows = realtime_rows_for("1001")
    assert rows["ps_auths"] == {"id": "1001", "auth_type": "userpass", "username": "1001",
                                "password": phone.secret}
    assert rows["ps_endpoints"]["100rel"] == "yes"
    assert "callerid" not in rows["ps_endpoints"]
    assert realtime_rows_for("9999") == {"ps_aors": {}, "ps_auths": {}, "ps_endpoints": {}}


def test_registration_status_reads_contacts_in_one_query(server, django_assert_num_queries):
    now = int(time.time())
    add_contact("1001", expires=now + 3600)
    add_contact("1002", expires=now - 10, suffix="expired000")
    with django_assert_num_queries(1):
        status = registration_status(["1001", "1002", "1003"])
    assert status["1001"].registered
    assert status["1001"].user_agent == "MicroSIP/3.21.3"
    assert status["1001"].address == "192.0.2.10:5070"
    assert status["1001"].expires_at == datetime.fromtimestamp(now + 3600, tz=UTC)
    assert not status["1002"].registered  # expired: Asterisk has stopped, the row outlived it
    assert not status["1003"].registered


def test_registration_status_counts_several_devices(server):
    now = int(time.time())
    add_contact("1001", expires=now + 100, suffix="one")
    add_contact("1001", expires=now + 3600, suffix="two", user_agent="Zoiper")
    status = registration_status(["1001"])["1001"]
    assert (status.contacts, status.user_agent) == (2, "Zoiper")


def test_generated_secrets_are_long_and_never_contain_odbc_separators():
    for _ in range(500):
        secret = secret_generate()
        assert len(secret) >= 20
        assert secret.isalnum() and secret.isascii()
        assert secret_problem(secret) is None


@pytest.mark.parametrize("secret", ["short-pw", "has;semicolon1", "has^caret12345",
                                    "has space 12345", "line\nbreak12345", "ünïcödé-secret"])
def test_typed_secrets_asterisk_cannot_use_are_refused(secret):
    assert secret_problem(secret)


def test_phone_unsync_of_an_unknown_extension_is_harmless(server):
    Phone.objects.create(extension="1001", name="Bob", server=server)
    phone_unsync("9999")
    assert PsEndpoint.objects.count() == 1


# --- all or nothing: the database itself refuses a write half-way --------------------------

@pytest.mark.django_db(transaction=True)
def test_a_failing_auth_insert_leaves_no_phone_and_no_rows():
    server = make_server()
    phone = Phone(extension="1001", name="Bob", server=server)
    with failing_writes("ps_auths", "INSERT"), pytest.raises(DatabaseError):
        phone.save()
    assert phone.pk is None
    assert not Phone.objects.exists()
    assert realtime_snapshot() == {"ps_aors": [], "ps_auths": [], "ps_endpoints": [],
                                   "ps_contacts": []}


@pytest.mark.django_db(transaction=True)
def test_a_failing_auth_update_leaves_the_phone_and_rows_as_they_were():
    server = make_server()
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    before = realtime_snapshot()
    phone.name, phone.context, phone.secret = "Robert", "sales", "Changed-Secret-99"
    with failing_writes("ps_auths", "UPDATE"), pytest.raises(DatabaseError):
        phone.save()
    saved = Phone.objects.get()
    assert (saved.name, saved.context) == ("Bob", "agents")
    assert realtime_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_delete_keeps_the_phone_its_rows_and_contacts():
    server = make_server()
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    add_contact("1001", expires=int(time.time()) + 3600)
    before = realtime_snapshot()
    with failing_writes("ps_auths", "DELETE"), pytest.raises(DatabaseError):
        phone.delete()
    assert Phone.objects.filter(pk=phone.pk).exists()
    assert realtime_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_rename_keeps_the_old_number_working():
    server = make_server()
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    before = realtime_snapshot()
    phone.extension = "2001"
    with failing_writes("ps_auths", "INSERT"), pytest.raises(DatabaseError):
        phone.save()
    assert Phone.objects.get().extension == "1001"
    assert realtime_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_bulk_create_creates_nothing():
    server = make_server()
    with failing_writes("ps_auths", "INSERT"), pytest.raises(DatabaseError):
        phone_bulk_create(start="2000", end="2099", name_pattern="Agent {ext}", server=server)
    assert not Phone.objects.exists()
    assert realtime_snapshot()["ps_aors"] == []


def test_saving_a_phone_runs_a_bounded_number_of_queries(server):
    phone = Phone(extension="1001", name="Bob", server=server)
    with CaptureQueriesContext(connection) as ctx:
        phone.save()
    # savepoint/insert phone + update-or-insert for three tables; no per-column chatter
    assert len(ctx.captured_queries) <= 10


def test_a_bulk_queryset_delete_removes_the_realtime_rows_too(db):
    from telephony.models import PsAor, PsAuth, PsContact, PsEndpoint
    from telephony.services.phones import phone_bulk_create
    from telephony.tests.phone_helpers import make_server

    phone_bulk_create(start="3000", end="3009", name_pattern="Agent {ext}", server=make_server())
    PsContact.objects.create(id="3001^3B@abc", endpoint="3001")

    Phone.objects.filter(extension__lt="3005").delete()

    remaining = {f"{n}" for n in range(3005, 3010)}
    for model in (PsEndpoint, PsAuth, PsAor):
        assert set(model.objects.values_list("id", flat=True)) == remaining
    assert not PsContact.objects.exists()


def test_a_value_too_wide_for_its_column_is_refused_before_any_row_is_written(server):
    # The forms refuse it first; a script saving the model directly gets a clear error and
    # no half-written extension, on every database (SQLite would store it silently).
    phone = Phone(extension="1001", name="Bob", server=server, context="agents",
                  caller_id_name="Customer Service Department", caller_id_number="+14155550123")

    with pytest.raises(ValueError, match="ps_endpoints.callerid of extension 1001 is 44 "
                                         "characters; the column holds 40"):
        phone.save()

    assert not Phone.objects.exists()
    assert not PsEndpoint.objects.filter(id="1001").exists()
