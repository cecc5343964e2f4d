"""The audit log: who changed what, when and from where, secrets masked; logins too;
admins read, filter and export it, nobody else."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.models import AsteriskServer, Campaign, DialplanContext, Phone
from telephony.services.phones import phone_bulk_create
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_phone_views import form_data as phone_form
from telephony.tests.test_server_views import form_data as server_form

pytestmark = pytest.mark.django_db

LOG = reverse("audit:log")
EXPORT = reverse("audit:export")


def entries_for(obj):
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def every_logged_value() -> str:
    return " ".join(str(entry.changes) for entry in LogEntry.objects.all())


def test_a_server_created_edited_and_deleted_is_logged_with_actor_address_and_masks(
        admin_client, admin_user):
    admin_client.post(reverse("telephony:server_create"), server_form(),
                      REMOTE_ADDR="192.0.2.7")
    server = AsteriskServer.objects.get(name="pbx2")
    admin_client.post(reverse("telephony:server_edit", args=[server.pk]),
                      server_form(host="10.0.0.6", ami_password="New-Ami-Pass-9"),
                      REMOTE_ADDR="192.0.2.8")
    created, updated = entries_for(server)
    assert (created.action, created.actor, created.remote_addr) == (
        LogEntry.Action.CREATE, admin_user, "192.0.2.7")
    assert created.changes_dict["host"] == ["None", "10.0.0.5"]
    assert updated.action == LogEntry.Action.UPDATE and updated.remote_addr == "192.0.2.8"
    assert updated.changes_dict["host"] == ["10.0.0.5", "10.0.0.6"]
    assert updated.changes_dict["ami_password"] == ["********", "********"]
    assert "ari_password" not in updated.changes_dict  # unchanged fields are not listed
    admin_client.post(reverse("telephony:server_delete", args=[server.pk]))
    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE).get()
    assert deleted.object_repr == "pbx2" and deleted.actor == admin_user
    logged = every_logged_value()
    for secret in ("Ami-Pass-42", "Ari-Pass-42", "New-Ami-Pass-9", "Ami-P", "s-42"):
        assert secret not in logged


def test_an_extension_change_is_logged_and_its_secret_never_is(admin_client):
    server = make_server()
    admin_client.post(reverse("telephony:phone_create"),
                      phone_form(server, new_secret="Typed-Secret-123"))
    phone = Phone.objects.get(extension="2001")
    admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                      phone_form(server, name="Carol front desk", regenerate_secret="on"))
    created, updated = entries_for(phone)
    assert created.changes_dict["secret"] == ["None", "********"]
    assert updated.changes_dict["name"] == ["Carol desk", "Carol front desk"]
    assert updated.changes_dict["secret"] == ["********", "********"]
    phone.refresh_from_db()
    assert "Typed-Secret" not in every_logged_value()
    assert phone.secret[4:] not in every_logged_value()


def test_a_bulk_create_logs_each_extension_with_its_actor(admin_client, admin_user):
    server = make_server()
    response = admin_client.post(reverse("telephony:phone_bulk_create"), {
        "start": "3000", "end": "3004", "name_pattern": "Agent {ext}", "server": server.pk,
        "context": "agents", "codecs": ["ulaw"], "transport": "transport-udp",
        "max_contacts": "1", "confirm": "1"}, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 302
    logged = LogEntry.objects.filter(action=LogEntry.Action.CREATE,
                                     content_type__model="phone")
    assert sorted(logged.values_list("object_repr", flat=True)) == [
        f"{ext} (Agent {ext})" for ext in range(3000, 3005)]
    assert set(logged.values_list("actor", "remote_addr")) == {(admin_user.pk, "192.0.2.9")}
    assert all(entry.changes_dict["secret"] == ["None", "********"] for entry in logged)


def test_bulk_create_outside_a_request_is_logged_without_an_actor():
    phone_bulk_create(start="10", end="11", name_pattern="P {ext}", server=make_server())
    assert LogEntry.objects.filter(content_type__model="phone", actor=None).count() == 2


def test_role_changes_are_logged(admin_client, agent):
    admin_client.post(reverse("users:edit", args=[agent.pk]), {
        "username": "bob", "first_name": "", "last_name": "", "email": "",
        "is_active": "on", "role": "Supervisor", "password1": "", "password2": ""})
    changes = [entry.changes_dict.get("groups") for entry in entries_for(agent)]
    assert {"type": "m2m", "operation": "delete", "objects": ["Agent"]} in changes
    assert {"type": "m2m", "operation": "add", "objects": ["Supervisor"]} in changes


def test_dialplan_and_campaign_changes_are_logged(admin_user):
    context = DialplanContext.objects.create(name="sales")
    campaign = Campaign.objects.create(name="Spring")
    assert [entry.action for entry in entries_for(context)] == [LogEntry.Action.CREATE]
    assert [entry.action for entry in entries_for(campaign)] == [LogEntry.Action.CREATE]


def test_logins_logouts_and_failed_logins_are_logged_with_the_address(admin_user):
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.post(reverse("users:login"), {"username": "alice", "password": "wrong-one-1"})
    client.post(reverse("users:login"), {"username": "nobody", "password": "wrong-one-1"})
    client.post(reverse("users:login"), {"username": "alice", "password": "pw-alice-123"})
    client.post(reverse("users:logout"))
    events = list(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("pk")
                  .values_list("additional_data__event", "object_repr", "actor",
                               "remote_addr"))
    assert events == [
        ("login_failed", "alice", None, "198.51.100.4"),
        ("login_failed", "nobody", None, "198.51.100.4"),
        ("login", "alice", admin_user.pk, "198.51.100.4"),
        ("logout", "alice", admin_user.pk, "198.51.100.4"),
    ]
    # A login saves last_login: that is not a change anyone made.
    assert "last_login" not in every_logged_value()
    assert "wrong-one-1" not in str(list(LogEntry.objects.values()))


def test_a_forged_forwarded_for_header_is_not_the_logged_address(admin_user):
    client = Client(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.66")
    client.post(reverse("users:login"), {"username": "alice", "password": "pw-alice-123"})
    assert LogEntry.objects.get(action=LogEntry.Action.ACCESS).remote_addr == "198.51.100.4"


def test_admins_filter_the_log_by_user_kind_action_and_object(admin_client, supervisor):
    server = make_server()
    admin_client.post(reverse("telephony:phone_create"), phone_form(server))
    rows = admin_client.get(LOG, {"kind": "phone"}).context["rows"]
    assert [(row["action"], row["entry"].object_repr) for row in rows] == [
        ("Created", "2001 (Carol desk)")]
    by_alice = admin_client.get(LOG, {"actor": "alice"}).context["rows"]
    assert [row["action"] for row in by_alice] == ["Created", "Logged in"]
    logins = admin_client.get(LOG, {"action": "login"}).context["rows"]
    assert [row["entry"].object_repr for row in logins] == ["alice"]
    assert admin_client.get(LOG, {"actor": "nobody"}).context["page"].paginator.count == 0
    updates = admin_client.get(LOG, {"action": "update", "kind": "user"}).context["rows"]
    assert updates and {(row["action"], row["kind"]) for row in updates} == {("Updated", "User")}
    assert admin_client.get(LOG, {"q": "carol"}).context["page"].paginator.count == 1
    assert admin_client.get(LOG, {"since": "2999-01-01"}).context["page"].paginator.count == 0
    page = admin_client.get(LOG).content.decode()
    assert "Carol desk" in page and "********" in page


def test_the_export_is_one_line_per_changed_field(admin_client):
    server = make_server()
    admin_client.post(reverse("telephony:phone_create"), phone_form(server, name="+Desk 1"),
                      REMOTE_ADDR="192.0.2.10")
    response = admin_client.get(EXPORT, {"kind": "phone"})
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["field"] for row in rows} >= {"extension", "name", "secret", "context"}
    by_field = {row["field"]: row for row in rows}
    assert by_field["name"]["after"] == "'+Desk 1"  # no formula in a spreadsheet
    assert by_field["secret"]["after"] == "********"
    assert by_field["name"]["user"] == "alice" and by_field["name"]["address"] == "192.0.2.10"
    assert by_field["name"]["action"] == "Created" and by_field["name"]["kind"] == "Extension"


def test_the_log_page_runs_the_same_queries_for_5_or_50_entries(admin_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LOG).status_code == 200
        return len(captured)

    for number in range(5):
        DialplanContext.objects.create(name=f"c{number}")
    few = queries()
    for number in range(5, 50):
        DialplanContext.objects.create(name=f"c{number}")
    assert queries() == few


@pytest.mark.parametrize("url", [LOG, EXPORT])
def test_only_admins_read_the_log(client, agent_client, supervisor_client, url):
    assert client.get(url).status_code == 302
    assert agent_client.get(url).status_code == 403
    assert supervisor_client.get(url).status_code == 403
