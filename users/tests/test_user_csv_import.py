"""Users in bulk from CSV: one round of problems (line, value, reason), a dry run that writes
nothing, a confirmation that writes exactly the good rows (users, roles, extensions and their
realtime rows) in one transaction, no passwords in the file and set-password links instead."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from telephony.models import Phone, PsEndpoint
from telephony.services.csv_table import CsvRefused
from telephony.tests.phone_helpers import make_server, realtime_snapshot
from telephony.tests.test_phone_realtime import read_rows, rows_of
from users.models import User
from users.roles import primary_role
from users.user_csv import user_csv_check, user_csv_import

pytestmark = pytest.mark.django_db

IMPORT = reverse("users:import")
TEMPLATE = reverse("users:import_template")
LINKS = reverse("users:password_links")


def snapshot():
    return (sorted(User.objects.values_list("username", "first_name", "last_name", "email",
                                            "password", "is_active")),
            sorted(User.groups.through.objects.values_list("user__username", "group__name")),
            sorted(Phone.objects.values_list("extension", "user_id", "is_active")),
            realtime_snapshot())


def upload(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile("users.csv", data, content_type="text/csv")


def dry_run(client, text):
    before = snapshot()
    response = client.post(IMPORT, {"file": upload(text)})
    assert response.status_code == 200
    assert snapshot() == before, "a dry run must write nothing"
    return response


def confirm(client, response):
    assert 'name="confirm"' in response.content.decode()
    return client.post(IMPORT, {"confirm": "1", "data": response.context["confirm_data"],
                                "fingerprint": response.context["plan"].fingerprint})


def test_every_bad_row_is_reported_in_one_round(admin_client, admin_user, server, agent,
                                                other_agent):
    Phone.objects.create(extension="1500", name="Carol", server=server, user=other_agent)
    text = ("username;name;email;role;extension\r\n"
            "dana;Dana Scully;dana@example.com;agent;2001\r\n"   # 2: fine, creates 2001
            "bad name;Bad;;agent;\r\n"                          # 3: username rule
            "erin;Erin;not-an-email;agent;\r\n"                 # 4: email
            "fox;Fox;;Boss;\r\n"                                # 5: unknown role
            "gil;Gil;;Supervisor;2002\r\n"                      # 6: extension for a supervisor
            "hal;Hal;;agent;1500\r\n"                           # 7: 1500 is carol's
            "ivy;Ivy;;agent;12a\r\n"                            # 8: extension digits
            "jon;Jon;;agent;2009\r\n"                           # 9: same extension ...
            "kim;Kim;;agent;2009\r\n"                           # 10: ... as line 9
            "BOB;Bob again;;agent;\r\n"                         # 11: bob exists (case)
            "alice;Alice;;Agent;\r\n")                          # 12: own Admin role
    response = dry_run(admin_client, text)
    plan = response.context["plan"]
    assert plan.summary() == "1 new, 0 updated, 10 rejected"
    found = {(p.line, p.column, p.value) for p in plan.problems}
    assert found == {(3, "username", "bad name"), (4, "email", "not-an-email"),
                     (5, "role", "Boss"), (6, "extension", "2002"), (7, "extension", "1500"),
                     (8, "extension", "12a"), (9, "extension", "2009"),
                     (10, "extension", "2009"), (11, "username", "BOB"), (12, "role", "Agent")}
    reasons = {p.line: p.reason for p in plan.problems}
    assert "'Boss' is not a role; use one of Admin, Supervisor, Agent." in reasons[5]
    assert reasons[7] == "extension: 1500 belongs to carol; free it first."
    assert "differ only in case" in reasons[11]
    page = response.content.decode()
    assert "<code>not-an-email</code>" in page
    assert "Import 1 user, skip 10 rejected" in page


def test_confirming_creates_agents_with_their_extensions_and_no_password(admin_client, server,
                                                                         agent):
    spare = Phone.objects.create(extension="1009", name="Spare", server=server)
    text = ("username\tname\temail\trole\textension\r\n"
            "dana\tDana Scully\tdana@example.com\tAgent\t2001\r\n"   # creates 2001
            "eve\tEve Moneypenny\t\t\t1009\r\n"                      # takes the spare one
            "sam2\tSam Two\t\tsupervisor\t\r\n"
            "bob\tRobert\t\t\t\r\n")                                  # updates bob's name
    response = dry_run(admin_client, text)
    assert response.context["plan"].summary() == "3 new, 1 updated, 0 rejected"
    response = confirm(admin_client, response)
    assert response.url == IMPORT
    dana, eve, sam2 = (User.objects.get(username=name) for name in ("dana", "eve", "sam2"))
    assert (dana.first_name, dana.last_name, dana.email) == ("Dana", "Scully", "dana@example.com")
    assert [primary_role(u) for u in (dana, eve, sam2)] == ["Agent", "Agent", "Supervisor"]
    assert not any(u.has_usable_password() for u in (dana, eve, sam2))
    assert User.objects.get(username="bob").first_name == "Robert"
    created = Phone.objects.get(extension="2001")
    assert (created.user, created.name, created.server) == (dana, "Dana Scully", server)
    assert read_rows("2001") == rows_of(created)  # the realtime rows, written with it
    spare.refresh_from_db()
    assert spare.user == eve
    page = admin_client.get(response.url).content.decode()
    assert "Import done: 3 created, 1 updated; they have no password yet" in page
    assert "3 users have no password yet" in page


def test_moving_an_agent_to_another_extension_frees_the_old_one(server, admin_user, agent):
    old = Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    user_csv_import(data=b"username,extension\nbob,1002\n", actor=admin_user)
    old.refresh_from_db()
    assert old.user is None
    assert Phone.objects.get(extension="1002").user == agent
    assert PsEndpoint.objects.filter(id="1002").exists()


def test_a_new_extension_needs_its_server_when_there_are_several(server, admin_user):
    make_server("pbx2")
    plan = user_csv_check(data=b"username,extension,server\ndana,2001,\neve,2002,pbx2\n"
                               b"fay,2003,pbx9\n", actor=admin_user)
    assert [(p.line, p.column) for p in plan.problems] == [(2, "server"), (4, "server")]
    assert plan.summary() == "1 new, 0 updated, 2 rejected"


def test_a_line_break_in_a_cell_is_a_row_error(server, admin_user):
    plan = user_csv_check(data=b'username,name\ndana,"Dana\r\nScully"\neve,Eve\n',
                          actor=admin_user)
    assert [(p.line, p.column, p.value) for p in plan.problems] == \
        [(2, "name", "Dana\\r\\nScully")]


def test_only_a_superuser_changes_a_superuser(server, admin_user, django_user_model):
    django_user_model.objects.create_superuser("root", password="x-123456789")
    plan = user_csv_check(data=b"username,role\nroot,Agent\n", actor=admin_user)
    assert "only a superuser can change it" in plan.problems[0].reason


def test_name_and_first_name_columns_together_are_refused(admin_user):
    with pytest.raises(CsvRefused, match="either name or first_name"):
        user_csv_check(data=b"username,name,first_name\nd,D,D\n", actor=admin_user)


def test_the_template_has_the_header_and_one_row_that_imports(admin_client, admin_user, server):
    response = admin_client.get(TEMPLATE)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 2 and rows[0][0] == "username"
    assert 'filename="users-template.csv"' in response["Content-Disposition"]
    assert user_csv_check(data=response.content, actor=admin_user).summary() == \
        "1 new, 0 updated, 0 rejected"


def test_a_set_password_link_sets_the_password_once(admin_client, admin_user, server):
    user_csv_import(data=b"username,name\ndana,Dana Scully\n", actor=admin_user)
    response = admin_client.get(LINKS)
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["username"] for row in rows] == ["dana"]
    link = rows[0]["set_password_link"]
    assert link.startswith("http://testserver/users/set-password/")
    anonymous = Client()
    form_page = anonymous.get(link, follow=True)
    assert form_page.context["validlink"]
    done = anonymous.post(form_page.redirect_chain[-1][0], {
        "new_password1": "Correct-Horse-42", "new_password2": "Correct-Horse-42"})
    assert done.url == reverse("users:login")
    assert User.objects.get(username="dana").check_password("Correct-Horse-42")
    assert not anonymous.get(link, follow=True).context["validlink"]  # used: it works once
    assert list(csv.DictReader(io.StringIO(admin_client.get(LINKS).content.decode()))) == []


def test_an_admin_gets_no_link_for_a_superuser(admin_client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    root.set_unusable_password()
    root.save()
    assert "root" not in admin_client.get(LINKS).content.decode()


@pytest.mark.parametrize("persona", ["agent_client", "supervisor_client"])
def test_agents_and_supervisors_are_refused_both_steps(request, persona, admin_client, server):
    client = request.getfixturevalue(persona)
    for url in (IMPORT, TEMPLATE, LINKS):
        assert client.get(url).status_code == 403
    text = "username,role\nmallory,Admin\n"
    assert client.post(IMPORT, {"file": upload(text)}).status_code == 403
    dry = dry_run(admin_client, text)
    assert client.post(IMPORT, {"confirm": "1", "data": dry.context["confirm_data"],
                                "fingerprint": dry.context["plan"].fingerprint}
                       ).status_code == 403
    assert not User.objects.filter(username="mallory").exists()
    assert not Group.objects.get(name="Admin").user_set.filter(username="mallory").exists()


def test_an_imported_users_page_offers_their_set_password_link(admin_client, admin_user, server):
    user_csv_import(data=b"username\ndana\n", actor=admin_user)
    dana = User.objects.get(username="dana")
    page = admin_client.get(reverse("users:edit", args=[dana.pk])).content.decode()
    assert "dana has no password yet" in page and "/users/set-password/" in page
    dana.set_password("Correct-Horse-42")
    dana.save()
    page = admin_client.get(reverse("users:edit", args=[dana.pk])).content.decode()
    assert "/users/set-password/" not in page


def test_a_deactivated_user_gets_no_extension(server, admin_user, agent):
    agent.is_active = False
    agent.save()
    plan = user_csv_check(data=b"username,extension\nbob,2001\n", actor=admin_user)
    assert plan.problems[0].reason == "extension: bob is deactivated; activate them first."
