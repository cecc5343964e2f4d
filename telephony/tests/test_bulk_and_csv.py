"""Bulk create (a range, collisions shown first, all or nothing) and CSV import/export."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from telephony.models import Phone, PsAuth, PsEndpoint
from telephony.services.phone_csv import CsvImportError, phone_csv_import
from telephony.services.phones import BulkCollisionError, phone_bulk_create
from telephony.tests.phone_helpers import realtime_snapshot

pytestmark = pytest.mark.django_db

BULK = reverse("telephony:phone_bulk_create")
IMPORT = reverse("telephony:phone_import")
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


def upload(text: str | bytes, name="extensions.csv"):
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


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
    assert sorted(result.updated) == ["1001", "1002"] and result.created == []
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


# --- CSV import ----------------------------------------------------------------------------

def test_import_creates_and_updates_and_says_so(admin_client, server, agent):
    Phone.objects.create(extension="1001", name="Old name", server=server)
    text = ("extension,name,server,codecs,user,active\r\n"
            "1001,New name,pbx1,ulaw|g722,,yes\r\n"
            "1002,Bob,pbx1,,bob,yes\r\n")
    response = admin_client.post(IMPORT, {"file": upload(text)}, follow=True)
    assert "1 created, 1 updated" in response.content.decode()
    assert Phone.objects.get(extension="1001").codecs == "ulaw,g722"
    new = Phone.objects.get(extension="1002")
    assert new.user == agent and len(new.secret) >= 20 and new.context == "agents"
    assert PsAuth.objects.get(id="1002").password == new.secret


def test_import_keeps_unlisted_values_of_existing_phones(server):
    phone = Phone.objects.create(extension="1001", name="Bob", server=server, context="sales",
                                 codecs="opus", caller_id_name="Bob")
    phone_csv_import(data=b"extension,name,server\n1001,Robert,pbx1\n")
    phone.refresh_from_db()
    assert (phone.name, phone.context, phone.codecs, phone.caller_id_name) == \
        ("Robert", "sales", "opus", "Bob")


def import_refused(admin_client, text_or_file) -> list:
    before = snapshot()
    file = text_or_file if isinstance(text_or_file, SimpleUploadedFile) else upload(text_or_file)
    response = admin_client.post(IMPORT, {"file": file})
    assert response.status_code == 200
    assert snapshot() == before
    if response.context["errors"] is None:
        return [(None, message) for message in response.context["form"].errors["file"]]
    assert "Nothing was imported" in response.content.decode()
    return response.context["errors"]


def test_a_missing_column_is_reported_and_nothing_changes(admin_client, server):
    Phone.objects.create(extension="1001", name="Bob", server=server)
    errors = import_refused(admin_client, "extension,name\r\n1001,Robert\r\n")
    assert errors[0][0] == 1 and "missing column(s): server" in errors[0][1]


def test_a_duplicate_row_is_reported_with_both_lines(admin_client, server):
    errors = import_refused(admin_client, "extension,name,server\r\n"
                                          "1001,Bob,pbx1\r\n1002,Carol,pbx1\r\n1001,Bob,pbx1\r\n")
    assert errors == [(4, "extension 1001 is also on line 2 (duplicate row).")]


def test_every_bad_row_is_reported_with_its_line_and_nothing_changes(admin_client, server):
    Phone.objects.create(extension="1001", name="Bob", server=server)
    text = ("extension,name,server,context,caller_id_name,secret\r\n"
            "1001,Robert,pbx1,agents,,\r\n"     # fine, but must not be applied
            "10a2,Letters,pbx1,agents,,\r\n"    # line 3
            "1003,Semi;colon,pbx1,agents,,\r\n"  # line 4
            "1004,Ok,nowhere,agents,,\r\n"      # line 5
            "1005,Ok,pbx1,bad context,,\r\n"    # line 6
            '1006,Ok,pbx1,agents,"Bob, Jr",\r\n'  # line 7
            "1007,Ok,pbx1,agents,,se;cret-123456\r\n"  # line 8
            f"{'9' * 30},Long,pbx1,agents,,\r\n")   # line 9
    errors = import_refused(admin_client, text)
    assert [line for line, _reason in errors] == [3, 4, 5, 6, 7, 8, 9]
    reasons = dict(errors)
    assert reasons[3].startswith("extension:") and reasons[5].startswith("server:")
    assert "';'" in reasons[8]


def test_a_file_over_two_megabytes_is_refused(admin_client, server):
    big = "extension,name,server\r\n" + "1001,Bob,pbx1\r\n" * 200_000
    errors = import_refused(admin_client, big)
    assert "the limit is 2 MB" in errors[0][1]


def test_the_service_refuses_a_big_file_before_parsing(server):
    with pytest.raises(CsvImportError, match="the limit is 2 MB"):
        phone_csv_import(data=b"x" * (3 * 1024 * 1024))


def test_more_than_ten_thousand_rows_are_refused(admin_client, server):
    rows = "".join(f"{100000 + n},A,pbx1\n" for n in range(10_001))
    errors = import_refused(admin_client, "extension,name,server\n" + rows)
    assert "more than 10,000 rows" in errors[0][1]


def test_a_file_that_is_not_utf8_is_refused(admin_client, server):
    errors = import_refused(admin_client, "extension,name,server\n1001,Zoë,pbx1\n"
                            .encode("latin-1"))
    assert "not UTF-8" in errors[0][1]


def test_an_empty_file_and_unknown_columns_are_refused(admin_client, server):
    assert "empty" in import_refused(admin_client, b"")[0][1]
    assert "no rows" in import_refused(admin_client, "extension,name,server\n")[0][1]
    errors = import_refused(admin_client, "extension,name,server,colour\n1001,A,pbx1,red\n")
    assert "unknown column(s): colour" in errors[0][1]


def test_users_must_be_agents_with_one_active_phone(admin_client, server, agent, supervisor):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    errors = import_refused(admin_client, "extension,name,server,user\n"
                                          "1002,A,pbx1,sam\n"       # not an agent
                                          "1003,B,pbx1,bob\n"       # already has 1001
                                          "1004,C,pbx1,ghost\n")    # no such user
    assert [line for line, _reason in errors] == [2, 3, 4]
    assert "already has active extension 1001" in errors[1][1]


def test_moving_an_agent_to_a_new_phone_in_the_same_file_is_allowed(server, agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    phone_csv_import(data=b"extension,name,server,user\n1001,Bob,pbx1,\n1002,Bob new,pbx1,bob\n")
    assert Phone.objects.get(extension="1002").user == agent
    assert Phone.objects.get(extension="1001").user is None


def test_one_agent_twice_in_a_file_is_refused(server, agent):
    with pytest.raises(CsvImportError) as exc:
        phone_csv_import(data=b"extension,name,server,user\n1001,A,pbx1,bob\n1002,B,pbx1,bob\n")
    assert exc.value.errors == [(3, "user: bob is also given an active phone on line 2; a user "
                                    "has at most one.")]
    assert not Phone.objects.exists()


def test_a_csv_caller_id_too_long_for_asterisks_column_is_refused(server):
    before = realtime_snapshot()
    with pytest.raises(CsvImportError) as exc:
        phone_csv_import(data=b"extension,name,server,caller_id_name,caller_id_number\n"
                              b"1001,A,pbx1,Bob,+15550001\n"
                              b"1002,B,pbx1,Customer Service Department,+14155550123\n")
    assert exc.value.errors[0][0] == 3
    assert exc.value.errors[0][1].startswith("caller_id_name: With the number, the caller ID")
    assert not Phone.objects.exists()
    assert realtime_snapshot() == before


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
