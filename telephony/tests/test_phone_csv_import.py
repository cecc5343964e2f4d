"""The extensions CSV import: one pass over every row (line, value, reason), `,` `;` and tab
files with or without a BOM, a template, a dry run that writes nothing, and a confirmation that
writes exactly what the dry run showed (the good rows and their realtime rows, together)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import reverse

from telephony.models import DialplanContext, Phone, PsAuth
from telephony.services.csv_table import CsvRefused, PlanChanged
from telephony.services.phone_csv import phone_csv_check, phone_csv_import
from telephony.tests.phone_helpers import failing_writes, make_server, realtime_snapshot
from telephony.tests.test_bulk_and_csv import snapshot
from telephony.tests.test_phone_realtime import read_rows, rows_of

pytestmark = pytest.mark.django_db

IMPORT = reverse("telephony:phone_import")
TEMPLATE = reverse("telephony:phone_import_template")


def upload(text: str | bytes, name="extensions.csv"):
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def dry_run(client, text):
    before = snapshot()
    response = client.post(IMPORT, {"file": upload(text)})
    assert response.status_code == 200
    assert snapshot() == before, "a dry run must write nothing"
    return response


def confirm(client, response, **overrides):
    """Post the dry run's confirmation form as the browser would."""
    page = response.content.decode()
    assert 'name="confirm"' in page
    plan = response.context["plan"]
    data = {"confirm": "1", "data": response.context["confirm_data"],
            "fingerprint": plan.fingerprint, **overrides}
    return client.post(IMPORT, data)


def refused(client, text) -> list:
    response = dry_run(client, text)
    if response.context["refused"] is None:
        return [(None, message) for message in response.context["form"].errors["file"]]
    assert "nothing was written" in response.content.decode()
    return [(p.line, p.reason) for p in response.context["refused"]]


# --- one pass ----------------------------------------------------------------------------

def test_six_bad_rows_of_six_kinds_are_all_reported_in_one_round(admin_client, server, agent,
                                                                 other_agent, supervisor):
    Phone.objects.create(extension="1500", name="Carol", server=server, user=other_agent)
    text = ("extension,name,server,context,user\r\n"
            "1001,Good one,pbx1,agents,bob\r\n"       # 2: fine
            "10a2,Letters,pbx1,agents,\r\n"           # 3: bad digits
            "1003,Ghost,pbx1,agents,ghost\r\n"        # 4: unknown user
            "1004,Sam,pbx1,agents,sam\r\n"            # 5: not an agent
            "1005,Carol,pbx1,agents,carol\r\n"        # 6: carol already has 1500
            "1006,Twice,pbx1,agents,\r\n"             # 7: duplicate extension ...
            "1006,Twice again,pbx1,agents,\r\n"       # 8: ... of line 7
            "1009,Typo,pbx1,agnets,\r\n")             # 9: unknown context
    response = dry_run(admin_client, text)
    plan = response.context["plan"]
    assert plan.summary() == "1 new, 0 updated, 7 rejected"
    rows = {(p.line, p.column, p.value) for p in plan.problems}
    assert rows == {(3, "extension", "10a2"), (4, "user", "ghost"), (5, "user", "sam"),
                    (6, "user", "carol"), (7, "extension", "1006"), (8, "extension", "1006"),
                    (9, "context", "agnets")}
    reasons = {p.line: p.reason for p in plan.problems}
    assert "2 to 15 digits" in reasons[3]
    assert reasons[4] == "user: no user is named 'ghost'."
    assert reasons[5] == "user: sam is not an active user with the Agent role."
    assert "carol already has active extension 1500" in reasons[6]
    assert "also on line 8" in reasons[7] and "also on line 7" in reasons[8]
    assert "'agnets' is not a dialplan context" in reasons[9]
    page = response.content.decode()
    for value in ("10a2", "ghost", "agnets"):
        assert f"<code>{value}</code>" in page  # the bad value beside its line and reason
    assert "Import 1 extension, skip 7 rejected" in page


def test_a_row_with_several_problems_reports_all_of_them(server, supervisor):
    plan = phone_csv_check(data=b"extension,name,server,context,user\n"
                                b"1001,Semi;colon,nowhere,agnets,sam\n")
    assert sorted(p.column for p in plan.problems) == ["context", "name", "server", "user"]
    assert plan.rejected == 1


def test_a_line_break_in_a_cell_is_a_row_error_on_the_line_the_row_starts(server):
    plan = phone_csv_check(data=b'extension,name,server\n1001,"Two\nlines",pbx1\n1002,Ok,pbx1\n')
    assert [(p.line, p.column, p.value) for p in plan.problems] == [(2, "name", "Two\\nlines")]
    assert [phone.extension for phone, _b in plan.created] == ["1002"]


def test_an_agent_moving_off_a_rejected_row_is_refused_with_the_reason(server, agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    plan = phone_csv_check(data=b"extension,name,server,user\n1001,Bad;name,pbx1,\n"
                                b"1002,Bob new,pbx1,bob\n")
    reasons = {p.line: p.reason for p in plan.problems}
    assert "line 2 would free it, but it is rejected" in reasons[3]


def test_moving_an_agent_to_a_new_phone_in_the_same_file_is_allowed(server, agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    phone_csv_import(data=b"extension,name,server,user\n1001,Bob,pbx1,\n1002,Bob new,pbx1,bob\n")
    assert Phone.objects.get(extension="1002").user == agent
    assert Phone.objects.get(extension="1001").user is None


def test_one_agent_twice_in_a_file_rejects_both_rows(server, agent):
    plan = phone_csv_import(data=b"extension,name,server,user\n1001,A,pbx1,bob\n"
                                 b"1002,B,pbx1,bob\n")
    assert [(p.line, p.reason) for p in plan.problems] == [
        (2, "user: bob is also given an active phone on line 3; a user has at most one."),
        (3, "user: bob is also given an active phone on line 2; a user has at most one.")]
    assert not Phone.objects.exists()


def test_a_csv_caller_id_too_long_for_asterisks_column_is_a_row_error(server):
    plan = phone_csv_check(data=b"extension,name,server,caller_id_name,caller_id_number\n"
                                b"1001,A,pbx1,Bob,+15550001\n"
                                b"1002,B,pbx1,Customer Service Department,+14155550123\n")
    assert [p.line for p in plan.problems] == [3]
    assert plan.problems[0].reason.startswith("caller_id_name: With the number, the caller ID")


def test_an_unknown_context_or_transport_is_a_row_error(server):
    plan = phone_csv_check(data=b"extension,name,server,context,transport\n"
                                b"2001,A,pbx1,agnets,\n2002,B,pbx1,,transport-tcp\n"
                                b"2003,C,pbx1,agents,transport-udp\n")
    assert [(p.line, p.reason) for p in plan.problems] == [
        (2, "context: 'agnets' is not a dialplan context Asterisk has; use one of agents, "
            "from-trunk."),
        (3, "transport: 'transport-tcp' is not a transport Asterisk has; use one of "
            "transport-udp.")]
    assert plan.summary() == "1 new, 0 updated, 2 rejected"


# --- the file as a whole -----------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [";", "\t", ","])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_semicolon_tab_and_comma_files_are_read_with_or_without_a_bom(server, delimiter, bom):
    DialplanContext.objects.create(name="sales")
    rows = [["extension", "name", "server", "context", "codecs"],
            ["1001", "Jürgen Müller", "pbx1", "sales", "ulaw,alaw"],
            ["1002", "Zoë", "pbx1", "", ""]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    plan = phone_csv_import(data=bom + out.getvalue().encode())
    assert plan.summary() == "2 new, 0 updated, 0 rejected"
    assert plan.delimiter == delimiter
    assert list(Phone.objects.values_list("extension", "name", "context", "codecs")) == [
        ("1001", "Jürgen Müller", "sales", "ulaw,alaw"), ("1002", "Zoë", "agents", "ulaw,alaw")]


def test_the_template_is_the_header_and_one_example_row_that_imports(admin_client, server):
    response = admin_client.get(TEMPLATE)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="extensions-template.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 2 and rows[0][:3] == ["extension", "name", "server"]
    assert phone_csv_check(data=response.content).summary() == "1 new, 0 updated, 0 rejected"


def test_a_missing_column_is_reported_and_nothing_changes(admin_client, server):
    errors = refused(admin_client, "extension,name\r\n1001,Robert\r\n")
    assert errors[0][0] == 1 and "missing column(s): server" in errors[0][1]


def test_an_empty_file_and_unknown_columns_are_refused(admin_client, server):
    assert "empty" in refused(admin_client, b"")[0][1]
    assert "no rows" in refused(admin_client, "extension,name,server\n")[0][1]
    errors = refused(admin_client, "extension,name,server,colour\n1001,A,pbx1,red\n")
    assert "unknown column(s): colour" in errors[0][1]


def test_a_file_over_two_megabytes_is_refused(admin_client, server):
    big = "extension,name,server\r\n" + "1001,Bob,pbx1\r\n" * 200_000
    assert "the limit is 2 MB" in refused(admin_client, big)[0][1]
    with pytest.raises(CsvRefused, match="the limit is 2 MB"):
        phone_csv_check(data=b"x" * (3 * 1024 * 1024))


def test_more_than_ten_thousand_rows_are_refused(admin_client, server):
    rows = "".join(f"{100000 + n},A,pbx1\n" for n in range(10_001))
    assert "more than 10,000 rows" in refused(admin_client, "extension,name,server\n" + rows)[0][1]


def test_a_file_that_is_not_utf8_is_refused(admin_client, server):
    errors = refused(admin_client, "extension,name,server\n1001,Zoë,pbx1\n".encode("latin-1"))
    assert "not UTF-8" in errors[0][1]


# --- dry run, then confirm ---------------------------------------------------------------

def test_the_dry_run_writes_nothing_and_confirming_writes_what_it_showed(admin_client, server,
                                                                        agent):
    Phone.objects.create(extension="1001", name="Old name", server=server)
    Phone.objects.create(extension="1003", name="Same", server=server)
    text = ("extension;name;server;codecs;user;active\r\n"
            "1001;New name;pbx1;ulaw|g722;;yes\r\n"
            "1002;Bob;pbx1;;bob;yes\r\n"
            "1003;Same;pbx1;;;\r\n"
            "1004;Bad;nowhere;;;\r\n")
    response = dry_run(admin_client, text)
    assert response.context["plan"].summary() == "1 new, 1 updated, 1 unchanged, 1 rejected"
    page = response.content.decode()
    assert "Dry run: nothing is written until you confirm" in page
    response = confirm(admin_client, response)
    assert response.url == reverse("telephony:phone_list")
    assert list(Phone.objects.values_list("extension", flat=True)) == ["1001", "1002", "1003"]
    assert Phone.objects.get(extension="1001").codecs == "ulaw,g722"
    new = Phone.objects.get(extension="1002")
    assert new.user == agent and len(new.secret) >= 20 and new.context == "agents"
    assert PsAuth.objects.get(id="1002").password == new.secret
    followed = admin_client.get(response.url)
    assert "1 created, 1 updated, written to Asterisk; 1 rejected row(s) skipped." in \
        followed.content.decode()


def test_confirming_writes_the_realtime_rows_of_every_good_row(admin_client, server):
    existing = Phone.objects.create(extension="1001", name="Old", server=server)
    text = ("extension,name,server,codecs,caller_id_name,caller_id_number\r\n"
            '1001,Bob,pbx1,"g722,ulaw",Bob,1001\r\n'
            "1002,Carol,pbx1,alaw,,\r\n"
            "1003,Bad;name,pbx1,,,\r\n")
    response = confirm(admin_client, dry_run(admin_client, text))
    assert response.status_code == 302
    existing.refresh_from_db()
    assert read_rows("1001") == rows_of(existing, allow="g722,ulaw", callerid='"Bob" <1001>')
    assert read_rows("1002") == rows_of(Phone.objects.get(extension="1002"), allow="alaw")
    assert read_rows("1003") == {"ps_aors": None, "ps_auths": None, "ps_endpoints": None}


def test_a_change_between_dry_run_and_confirm_writes_nothing_and_shows_the_new_plan(
        admin_client, server, agent):
    text = "extension,name,server,user\r\n1001,Bob,pbx1,bob\r\n1002,Spare,pbx1,\r\n"
    response = dry_run(admin_client, text)
    Phone.objects.create(extension="1500", name="Meanwhile", server=server, user=agent)
    before = snapshot()
    response = confirm(admin_client, response)
    assert response.status_code == 200
    assert snapshot() == before
    assert "Something changed since the dry run" in response.content.decode()
    assert response.context["plan"].summary() == "1 new, 0 updated, 1 rejected"
    assert confirm(admin_client, response).status_code == 302  # the new plan confirms
    assert Phone.objects.filter(extension="1002").exists()


def test_a_tampered_confirmation_is_refused(admin_client, server):
    response = dry_run(admin_client, "extension,name,server\r\n1001,Bob,pbx1\r\n")
    assert confirm(admin_client, response, data="not base64!").status_code == 200
    assert confirm(admin_client, response, fingerprint="0" * 40).status_code == 200
    assert not Phone.objects.exists()


def test_the_service_refuses_a_plan_other_than_the_confirmed_one(server):
    plan = phone_csv_check(data=b"extension,name,server\n1001,Bob,pbx1\n")
    with pytest.raises(PlanChanged):
        phone_csv_import(data=b"extension,name,server\n1001,Robert,pbx1\n",
                         fingerprint=plan.fingerprint)
    assert not Phone.objects.exists()
    phone_csv_import(data=b"extension,name,server\n1001,Bob,pbx1\n", fingerprint=plan.fingerprint)
    assert Phone.objects.get().name == "Bob"


def test_an_import_is_in_the_audit_log(server):
    from auditlog.models import LogEntry

    Phone.objects.create(extension="1001", name="Old", server=server)
    LogEntry.objects.all().delete()
    phone_csv_import(data=b"extension,name,server\n1001,New,pbx1\n1002,Carol,pbx1\n")
    entries = {(e.object_repr, e.action) for e in LogEntry.objects.all()}
    assert entries == {("1001 (New)", LogEntry.Action.UPDATE),
                       ("1002 (Carol)", LogEntry.Action.CREATE)}


@pytest.mark.django_db(transaction=True)
def test_a_failing_confirmed_import_changes_nothing():
    Phone.objects.create(extension="1001", name="Bob", server=make_server())
    before = realtime_snapshot()
    data = b"extension,name,server\r\n1001,Robert,pbx1\r\n1002,Carol,pbx1\r\n"
    with failing_writes("ps_auths", "INSERT"), pytest.raises(DatabaseError):
        phone_csv_import(data=data)
    assert list(Phone.objects.values_list("extension", "name")) == [("1001", "Bob")]
    assert realtime_snapshot() == before


# --- who may ---------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["agent_client", "supervisor_client"])
def test_agents_and_supervisors_are_refused_both_steps(request, persona, admin_client, server):
    client = request.getfixturevalue(persona)
    assert client.get(IMPORT).status_code == 403
    assert client.get(TEMPLATE).status_code == 403
    assert client.post(IMPORT, {"file": upload("extension,name,server\n1001,A,pbx1\n")}
                       ).status_code == 403
    dry = dry_run(admin_client, "extension,name,server\n1001,A,pbx1\n")
    assert client.post(IMPORT, {"confirm": "1", "data": dry.context["confirm_data"],
                                "fingerprint": dry.context["plan"].fingerprint}
                       ).status_code == 403
    assert not Phone.objects.exists()


# --- agents changing phones within one file ------------------------------------------------
# PostgreSQL and SQLite check the one-active-phone-per-user index as each row is written, so
# the file's end state being valid is not enough: no row may be written while another phone
# still holds the agent (MariaDB has no partial index; the dry run enforces the rule there).
# Without the fix all three failed on SQLite; the last two on PostgreSQL.

def test_swapping_the_agents_of_two_existing_extensions_in_one_file(server, agent, other_agent):
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    Phone.objects.create(extension="1002", name="Carol", server=server, user=other_agent)
    plan = phone_csv_import(data=b"extension,name,server,user\n1001,Bob,pbx1,carol\n"
                                 b"1002,Carol,pbx1,bob\n")
    assert plan.problems == []
    assert Phone.objects.get(extension="1001").user == other_agent
    assert Phone.objects.get(extension="1002").user == agent


def test_an_agent_moves_to_an_existing_extension_written_first(server, agent):
    Phone.objects.create(extension="1002", name="Spare", server=server)
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    plan = phone_csv_import(data=b"extension,name,server,user\n1002,Spare,pbx1,bob\n"
                                 b"1001,Bob,pbx1,\n")
    assert plan.problems == []
    assert Phone.objects.get(extension="1002").user == agent
    assert Phone.objects.get(extension="1001").user is None


def test_an_agent_switches_active_phone_by_the_active_column(server, agent):
    Phone.objects.create(extension="1002", name="Old", server=server, user=agent,
                         is_active=False)
    Phone.objects.create(extension="1001", name="New", server=server, user=agent)
    plan = phone_csv_import(data=b"extension,name,server,user,active\n1002,Old,pbx1,bob,yes\n"
                                 b"1001,New,pbx1,bob,no\n")
    assert plan.problems == []
    assert Phone.objects.get(extension="1002").is_active
    assert not Phone.objects.get(extension="1001").is_active
    assert {p.user for p in Phone.objects.all()} == {agent}
