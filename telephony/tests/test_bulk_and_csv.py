"""Bulk create (a range, collisions shown first, all or nothing) and CSV export (the import:
test_phone_csv_import.py)."""

import csv
import io

import pytest
from django.urls import reverse

from telephony.models import Phone, PsEndpoint
from telephony.services.phone_csv import phone_csv_import
from telephony.services.phones import BulkCollisionError, phone_bulk_create
from telephony.tests.phone_helpers import realtime_snapshot

pytestmark = pytest.mark.django_db

BULK = reverse("telephony:phone_bulk_create")
EXPORT = reverse("telephony:phone_export")


def snapshot():
    return (sorted(Phone.objects.values_list("extension", "name", "context", "user_id",
                                             "is_active", "secret", "codecs")),
            realtime_snapshot())


def bulk_data(server, **overrides):
    data = {"start": "2000", "end": "2009", "name_pattern": "Agent {ext}",
            "server": str(server.pk), "context": "agents", "codecs": ["ulaw", "alaw"],
            "transport": "transport-udp", "max_contacts": "1"}
    data.update(overrides)
    return data


# --- bulk create ---------------------------------------------------------------------------

def test_bulk_preview_shows_the_range_and_creates_nothing(admin_client, server):
    response = admin_client.post(BULK, bulk_data(server))
    page = response.content.decode()
    assert response.context["preview"]["count"] == 10
    assert "Agent 2000" in page and "Agent 2009" in page and "No collisions" in page
    assert 'name="confirm"' in page
    assert not Phone.objects.exists()


def test_bulk_confirm_creates_every_extension_and_its_rows(admin_client, server):
    response = admin_client.post(BULK, {**bulk_data(server), "confirm": "1"})
    assert response.url == reverse("telephony:phone_list")
    assert Phone.objects.count() == 10
    assert sorted(PsEndpoint.objects.values_list("id", flat=True)) == \
        [str(n) for n in range(2000, 2010)]
    assert Phone.objects.get(extension="2005").name == "Agent 2005"


def test_bulk_overlapping_existing_phones_lists_collisions_and_changes_nothing(admin_client,
                                                                               server):
    Phone.objects.create(extension="2003", name="Taken", server=server)
    Phone.objects.create(extension="2007", name="Taken too", server=server)
    before = snapshot()
    response = admin_client.post(BULK, bulk_data(server))
    assert response.context["preview"]["collisions"] == ["2003", "2007"]
    page = response.content.decode()
    assert "2003, 2007" in page and 'name="confirm"' not in page
    response = admin_client.post(BULK, {**bulk_data(server), "confirm": "1"})
    assert response.status_code == 200
    assert snapshot() == before


def test_the_service_refuses_collisions_too(server):
    Phone.objects.create(extension="2003", name="Taken", server=server)
    before = snapshot()
    with pytest.raises(BulkCollisionError) as exc:
        phone_bulk_create(start="2000", end="2009", name_pattern="A {ext}", server=server)
    assert exc.value.collisions == ["2003"]
    assert snapshot() == before


@pytest.mark.parametrize("overrides,field", [
    ({"start": "20a0"}, "start"), ({"end": "20 09"}, "end"), ({"start": "1" * 30}, "start"),
    ({"start": "3000", "end": "2000"}, "end"), ({"start": "10000", "end": "20000"}, "end"),
    ({"name_pattern": "Agent {ext};x"}, "name_pattern"),
    ({"name_pattern": "Agent {number}"}, "name_pattern"),
    ({"name_pattern": "Agent <{ext}>"}, "name_pattern"),
    ({"name_pattern": "Agent\r\n{ext}"}, "name_pattern"),
    ({"context": "a;b"}, "context"), ({"codecs": ["nope"]}, "codecs"),
])
def test_bad_bulk_input_is_refused_and_nothing_is_created(admin_client, server, overrides,
                                                          field):
    response = admin_client.post(BULK, {**bulk_data(server, **overrides), "confirm": "1"})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Phone.objects.exists() and not PsEndpoint.objects.exists()


def test_bulk_keeps_leading_zeros(server):
    phone_bulk_create(start="0098", end="0101", name_pattern="Desk {ext}", server=server)
    assert list(Phone.objects.values_list("extension", flat=True)) == \
        ["0098", "0099", "0100", "0101"]


def test_bulk_allows_exactly_ten_thousand(admin_client, server):
    response = admin_client.post(BULK, bulk_data(server, start="10000", end="19999"))
    assert response.context["preview"]["count"] == 10_000


# --- CSV export ----------------------------------------------------------------------------

def test_export_lists_the_filtered_phones_without_secrets(admin_client, server, agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent,
                         caller_id_number="+4420")
    Phone.objects.create(extension="1002", name="Spare", server=server, is_active=False)
    response = admin_client.get(EXPORT, {"active": "yes"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["extension", "name", "server", "context", "codecs", "transport", "max_contacts",
         "caller_id_name", "caller_id_number", "user", "active"],
        # '+4420' would be a formula to a spreadsheet: every cell is defused, numbers too.
        ["1001", "Bob", "pbx1", "agents", "ulaw,alaw", "transport-udp", "1", "", "'+4420", "bob",
         "yes"],
    ]


def test_export_with_secrets_adds_the_secret_column(admin_client, server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server)
    response = admin_client.get(EXPORT, {"secrets": "1"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-1] == "secret" and rows[1][-1] == phone.secret
    assert response["Cache-Control"] == "no-store"


def test_an_export_imports_back_without_changes(admin_client, server, agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    Phone.objects.create(extension="1002", name="Carol", server=server, codecs="g722")
    before = snapshot()
    exported = admin_client.get(EXPORT, {"secrets": "1"}).content
    result = phone_csv_import(data=exported)
    assert (len(result.unchanged), result.created, result.updated) == (2, [], [])
    assert snapshot() == before


def test_export_defuses_spreadsheet_formulas_and_imports_them_back(admin_client, server):
    Phone.objects.create(extension="1001", name="@SUM(1) desk", server=server,
                         caller_id_name="-2+3 Sales")
    before = snapshot()
    exported = admin_client.get(EXPORT).content
    row = next(r for r in csv.DictReader(io.StringIO(exported.decode())) if r["extension"])
    assert (row["name"], row["caller_id_name"]) == ("'@SUM(1) desk", "'-2+3 Sales")
    phone_csv_import(data=exported)
    assert snapshot() == before


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_the_extensions_export_defuses_the_username_and_secret_too(admin_client, server,
                                                                   django_user_model, start):
    from django.contrib.auth.models import Group

    agent = django_user_model.objects.create_user(username=f"{start}bob", password="x-123456789")
    agent.groups.add(Group.objects.get(name="Agent"))
    Phone.objects.create(extension="1001", name="Desk", server=server, user=agent,
                         secret=f"{start}Secret-123456")
    before = snapshot()
    exported = admin_client.get(EXPORT, {"secrets": "1"}).content
    row = next(r for r in csv.DictReader(io.StringIO(exported.decode())) if r["extension"])
    assert row["user"] == f"'{start}bob"
    assert row["secret"] == f"'{start}Secret-123456"
    assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())
    phone_csv_import(data=exported)  # and it imports back unchanged
    assert snapshot() == before
