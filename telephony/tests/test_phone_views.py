"""Extension pages: admin only, strict input, assignment to agents, constant-query list."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.asterisk.values import secret_generate
from telephony.models import Phone, PsContact, PsEndpoint
from telephony.tests.fakes.ami import FakeAmiServer, closed_port, registered_endpoint
from telephony.tests.phone_helpers import add_contact, make_server, realtime_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(server):
    return Phone.objects.create(extension="1001", name="Bob desk", server=server)


def phone_urls(phone):
    return [
        reverse("telephony:phone_list"),
        reverse("telephony:phone_create"),
        reverse("telephony:phone_bulk_create"),
        reverse("telephony:phone_import"),
        reverse("telephony:phone_export"),
        reverse("telephony:phone_detail", args=[phone.pk]),
        reverse("telephony:phone_edit", args=[phone.pk]),
        reverse("telephony:phone_delete", args=[phone.pk]),
    ]


def form_data(server, **overrides):
    data = {"extension": "2001", "name": "Carol desk", "server": str(server.pk),
            "context": "agents", "codecs": ["ulaw", "alaw"], "transport": "transport-udp",
            "max_contacts": "1", "caller_id_name": "", "caller_id_number": "", "user": "",
            "is_active": "on", "new_secret": ""}
    data.update(overrides)
    return data


def snapshot():
    return (sorted(Phone.objects.values_list("extension", "name", "context", "user_id",
                                             "is_active", "secret")), realtime_snapshot())


# --- permissions ---------------------------------------------------------------------------

def test_it_sends_anonymous_visitors_to_login(client, phone):
    for url in phone_urls(phone):
        response = client.get(url)
        assert response.status_code == 302 and "/users/login/" in response.url, url


def test_it_rejects_agents_and_supervisors_on_every_admin_page(agent_client, supervisor_client,
                                                               phone):
    for url in phone_urls(phone):
        assert agent_client.get(url).status_code == 403, url
        assert supervisor_client.get(url).status_code == 403, url


def test_an_agent_cannot_change_or_delete_a_phone(agent_client, phone, server):
    before = snapshot()
    assert agent_client.post(reverse("telephony:phone_delete", args=[phone.pk])).status_code \
        == 403
    assert agent_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                             form_data(server, extension="1001")).status_code == 403
    assert agent_client.post(reverse("telephony:phone_create"),
                             form_data(server)).status_code == 403
    assert snapshot() == before


def test_it_shows_every_page_to_admins(admin_client, phone):
    for url in phone_urls(phone):
        assert admin_client.get(url).status_code == 200, url


# --- list ----------------------------------------------------------------------------------

def _list_queries(admin_client, count, server):
    Phone.objects.all().delete()
    PsEndpoint.objects.all().delete()
    PsContact.objects.all().delete()
    Phone.objects.bulk_create(
        Phone(extension=str(3000 + i), name=f"Agent {i}", server=server,
              secret=secret_generate()) for i in range(count))
    now = int(time.time())
    for i in range(0, min(count, 20), 2):
        add_contact(str(3000 + i), expires=now + 3600, suffix=f"c{i}")
    admin_client.get(reverse("telephony:phone_list"))  # warm up session and caches
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse("telephony:phone_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_list_runs_the_same_number_of_queries_for_10_and_500_phones(admin_client, server):
    few, _ = _list_queries(admin_client, 10, server)
    many, response = _list_queries(admin_client, 500, server)
    assert few == many
    assert few <= 10
    page = response.content.decode()
    assert page.count("Registered</span>") == 10
    assert "MicroSIP/3.21.3" in page


def test_the_list_searches_extension_name_and_user(admin_client, server, agent):
    Phone.objects.create(extension="1001", name="Front desk", server=server)
    Phone.objects.create(extension="1002", name="Back office", server=server, user=agent)
    url = reverse("telephony:phone_list")

    def found(**params):
        rows = admin_client.get(url, params).context["rows"]
        return [row["extension"] for row in rows]

    assert found(q="100") == ["1001", "1002"]
    assert found(q="front") == ["1001"]
    assert found(q="bob") == ["1002"]
    assert found(assigned="yes") == ["1002"]
    assert found(assigned="no") == ["1001"]


def test_the_list_filters_by_server_and_active(admin_client, server):
    other = make_server(name="pbx2")
    Phone.objects.create(extension="1001", name="A", server=server)
    Phone.objects.create(extension="1002", name="B", server=other, is_active=False)
    url = reverse("telephony:phone_list")
    rows = admin_client.get(url, {"server": other.pk}).context["rows"]
    assert [row["extension"] for row in rows] == ["1002"]
    rows = admin_client.get(url, {"active": "yes"}).context["rows"]
    assert [row["extension"] for row in rows] == ["1001"]


def test_the_list_paginates(admin_client, server):
    Phone.objects.bulk_create(Phone(extension=str(5000 + i), name="x", server=server,
                                    secret="s" * 24) for i in range(120))
    response = admin_client.get(reverse("telephony:phone_list"), {"page": 3})
    assert len(response.context["rows"]) == 20
    html = response.content.decode()
    assert ('<li class="page-item active" aria-current="page"><span class="page-link">3</span>'
            in html)
    assert 'aria-label="Page 1"' in html and 'aria-label="Page 4"' not in html


# --- create / edit -------------------------------------------------------------------------

def test_admin_creates_a_phone_and_its_rows(admin_client, server):
    response = admin_client.post(reverse("telephony:phone_create"), form_data(server))
    phone = Phone.objects.get(extension="2001")
    assert response.url == reverse("telephony:phone_detail", args=[phone.pk])
    assert len(phone.secret) >= 20
    assert PsEndpoint.objects.get(id="2001").allow == "ulaw,alaw"


def test_admin_may_type_a_secret(admin_client, server):
    admin_client.post(reverse("telephony:phone_create"),
                      form_data(server, new_secret="Typed-Secret-2024"))
    assert Phone.objects.get().secret == "Typed-Secret-2024"


@pytest.mark.parametrize("field,value", [
    ("extension", "10a1"), ("extension", "10 01"), ("extension", "1" * 30), ("extension", "1"),
    ("extension", "+1001"),
    ("name", "Bob\r\nX-Injected: 1"), ("name", "Bob;desk"), ("name", "Bob, desk"),
    ("name", 'Bob "desk"'), ("name", "Bob^desk"), ("name", "Bob\x07"),
    ("caller_id_name", "Bob\nSmith"), ("caller_id_name", "Bob;Smith"),
    ("caller_id_name", "Bob, Smith"), ("caller_id_name", '"Bob"'), ("caller_id_name", "Bob <1>"),
    ("caller_id_number", "12ab"), ("caller_id_number", "123;456"),
    ("context", "agents;x"), ("context", "age\r\nnts"), ("context", "sales team"),
    ("context", "vente-équipe"), ("context", "a,b"),
    ("transport", "transport udp"),
    ("codecs", ["ulaw", "foo"]), ("codecs", []),
    ("new_secret", "short"), ("new_secret", "has;semicolon-123"), ("new_secret", "has^caret-1234"),
    ("new_secret", "with space 12345"), ("new_secret", "line\nbreak-12345"),
    ("max_contacts", "0"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(admin_client, server, phone,
                                                            field, value):
    before = snapshot()
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, **{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and errors[field][0], errors
    assert snapshot() == before


def test_a_duplicate_extension_is_refused(admin_client, server, phone):
    before = snapshot()
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, extension="1001"))
    assert response.context["form"].errors["extension"] == ["This extension already exists."]
    assert snapshot() == before


def test_an_endpoint_no_phone_owns_is_not_overwritten(admin_client, server):
    PsEndpoint.objects.create(id="2001", context="trunk")
    response = admin_client.post(reverse("telephony:phone_create"), form_data(server))
    assert "already has an endpoint named 2001" in response.context["form"].errors["extension"][0]
    assert PsEndpoint.objects.get(id="2001").context == "trunk"
    assert not Phone.objects.exists()


def test_admin_assigns_the_phone_to_an_agent(admin_client, server, phone, agent):
    response = admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                                 form_data(server, extension="1001", user=str(agent.pk)))
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.user == agent


def test_only_agents_can_be_assigned(admin_client, server, phone, supervisor, admin_user):
    for user in (supervisor, admin_user):
        before = snapshot()
        response = admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                                     form_data(server, extension="1001", user=str(user.pk)))
        assert "user" in response.context["form"].errors
        assert snapshot() == before


def test_an_agent_has_at_most_one_active_phone(admin_client, server, phone, agent):
    Phone.objects.create(extension="1002", name="Other", server=server, user=agent)
    before = snapshot()
    response = admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                                 form_data(server, extension="1001", user=str(agent.pk)))
    assert "already has active extension 1002" in response.context["form"].errors["user"][0]
    assert snapshot() == before
    # An inactive spare phone may stay assigned to the same agent.
    response = admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                                 form_data(server, extension="1001", user=str(agent.pk),
                                           is_active=""))
    assert response.status_code == 302


def test_the_service_enforces_one_active_phone_even_without_the_form(server, phone, agent):
    from telephony.services.phones import PhoneError, phone_update

    Phone.objects.create(extension="1002", name="Other", server=server, user=agent)
    with pytest.raises(PhoneError, match="at most one active phone"):
        phone_update(phone=phone, user=agent)
    phone.refresh_from_db()
    assert phone.user is None


def test_editing_with_a_blank_secret_keeps_it_and_regenerate_replaces_it(admin_client, server,
                                                                        phone):
    secret = phone.secret
    url = reverse("telephony:phone_edit", args=[phone.pk])
    admin_client.post(url, form_data(server, extension="1001", name="Renamed"))
    phone.refresh_from_db()
    assert (phone.name, phone.secret) == ("Renamed", secret)
    admin_client.post(url, form_data(server, extension="1001", regenerate_secret="on"))
    phone.refresh_from_db()
    assert phone.secret != secret and len(phone.secret) >= 20


def test_editing_the_extension_number_moves_the_rows(admin_client, server, phone):
    admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                      form_data(server, extension="1009"))
    assert list(PsEndpoint.objects.values_list("id", flat=True)) == ["1009"]


# --- delete / detail -----------------------------------------------------------------------

def test_delete_asks_for_confirmation_then_removes_rows_and_contacts(admin_client, phone):
    add_contact("1001", expires=int(time.time()) + 3600)
    url = reverse("telephony:phone_delete", args=[phone.pk])
    page = admin_client.get(url).content.decode()
    assert "Delete extension 1001" in page and Phone.objects.exists()
    response = admin_client.post(url)
    assert response.url == reverse("telephony:phone_list")
    assert not Phone.objects.exists()
    assert not PsEndpoint.objects.exists() and not PsContact.objects.exists()


def test_the_detail_page_has_the_provisioning_card_and_the_rows(admin_client, phone):
    add_contact("1001", expires=int(time.time()) + 3600)
    response = admin_client.get(reverse("telephony:phone_detail", args=[phone.pk]))
    page = response.content.decode()
    assert 'data-field="username">1001<' in page
    assert 'data-field="domain">pbx.example.com<' in page
    # The password is in a password input (hidden until "Show"), with copy and reveal buttons.
    assert f'type="password" class="form-control font-monospace-sm" id="sip-secret" ' \
           f'value="{phone.secret}"' in page
    assert "data-secret-toggle" in page and "data-secret-copy" in page
    assert page.count(phone.secret) == 1
    assert "UDP" in page and "5060" in page
    for table in ("ps_aors", "ps_auths", "ps_endpoints"):
        assert f'data-table="{table}"' in page
    assert "rfc4733" in page and "userpass" in page and "remove_existing" in page
    assert "Registered" in page and "MicroSIP" in page


# --- Django admin --------------------------------------------------------------------------

@pytest.fixture
def superuser_client(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(user)
    return client


def test_django_admin_saves_go_through_phone_save(superuser_client, server, phone):
    url = reverse("admin:telephony_phone_change", args=[phone.pk])
    data = {"extension": "1001", "name": "Bob", "secret": phone.secret, "server": server.pk,
            "context": "support", "codecs": "ulaw", "transport": "transport-udp",
            "max_contacts": 1, "caller_id_name": "", "caller_id_number": "", "user": "",
            "is_active": "on"}
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert PsEndpoint.objects.get(id="1001").context == "support"


def test_django_admin_refuses_a_secret_asterisk_cannot_read(superuser_client, server, phone):
    url = reverse("admin:telephony_phone_change", args=[phone.pk])
    data = {"extension": "1001", "name": "Bob", "secret": "bad;secret-123", "server": server.pk,
            "context": "agents", "codecs": "ulaw,alaw", "transport": "transport-udp",
            "max_contacts": 1, "user": "", "is_active": "on"}
    response = superuser_client.post(url, data)
    assert response.status_code == 200
    phone.refresh_from_db()
    assert ";" not in phone.secret


def test_django_admin_bulk_delete_removes_rows(superuser_client, phone):
    response = superuser_client.post(reverse("admin:telephony_phone_changelist"),
                                 {"action": "delete_selected", "_selected_action": [phone.pk],
                                  "post": "yes"})
    assert response.status_code == 302
    assert not Phone.objects.exists() and not PsEndpoint.objects.exists()


def test_django_admin_lists_realtime_tables_and_contacts_are_read_only(superuser_client, phone):
    add_contact("1001", expires=int(time.time()) + 3600)
    for name in ("psendpoint", "psauth", "psaor", "pscontact", "psendpointidip",
                 "psregistration", "psdomainalias", "extensionstable", "asteriskserver"):
        url = reverse(f"admin:telephony_{name}_changelist")
        assert superuser_client.get(url).status_code == 200, name
    assert superuser_client.get(reverse("admin:telephony_pscontact_add")).status_code == 403


def test_django_admin_refuses_unknown_codecs_and_non_agents(superuser_client, server, phone,
                                                            supervisor):
    url = reverse("admin:telephony_phone_change", args=[phone.pk])
    data = {"extension": "1001", "name": "Bob", "secret": phone.secret, "server": server.pk,
            "context": "agents", "codecs": "ulaw,nope", "transport": "transport-udp",
            "max_contacts": 1, "user": supervisor.pk, "is_active": "on"}
    before = snapshot()
    response = superuser_client.post(url, data)
    errors = response.context["adminform"].form.errors
    assert "codecs" in errors and "user" in errors
    assert snapshot() == before


def test_the_only_active_server_is_preselected_on_the_create_forms(admin_client):
    only = make_server("pbx1")
    for name in ("telephony:phone_create", "telephony:phone_bulk_create",
                 "telephony:carrier_create"):
        html = admin_client.get(reverse(name)).content.decode()
        assert f'<option value="{only.pk}" selected>' in html, name

    make_server("pbx2")
    html = admin_client.get(reverse("telephony:phone_create")).content.decode()
    assert "selected>pbx" not in html


def test_a_caller_id_too_long_for_asterisks_column_is_refused(admin_client, server, phone):
    # 27 + 12 characters, each within its own field, make a 44-character callerid: the column
    # holds 40, and PostgreSQL / strict MariaDB would refuse the row with a bare DataError.
    before = snapshot()
    response = admin_client.post(reverse("telephony:phone_create"), form_data(
        server, caller_id_name="Customer Service Department", caller_id_number="+14155550123"))

    assert response.status_code == 200
    assert response.context["form"].errors["caller_id_name"] == [
        'With the number, the caller ID "Customer Service Department" <+14155550123> is 44 '
        "characters; Asterisk's column holds 40. Shorten the name to 23 characters."]
    assert snapshot() == before
    ok = admin_client.post(reverse("telephony:phone_create"), form_data(
        server, caller_id_name="Customer Service Depart", caller_id_number="+14155550123"))
    assert ok.status_code == 302
    assert PsEndpoint.objects.get(id="2001").callerid == '"Customer Service Depart" <+14155550123>'


# --- registration as Asterisk reports it (defect 5 of issue #12) ---------------------------

@pytest.fixture
def asterisk(server):
    """The server's AMI is a fake Asterisk: what it reports is the registration shown."""
    with FakeAmiServer() as ami:
        server.ami_port, server.ami_username, server.ami_password = (ami.port, ami.username,
                                                                     ami.secret)
        server.save()
        ami.endpoints = {}
        yield ami


def test_the_list_shows_what_asterisk_reports_in_one_action_per_page(admin_client, server,
                                                                    asterisk):
    for extension in ("3001", "3002", "3003"):
        Phone.objects.create(extension=extension, name=f"Desk {extension}", server=server)
        add_contact(extension, expires=int(time.time()) + 3600, suffix=extension)
    # 3001 answers qualify, 3002 did not answer the last one, 3003's contact Asterisk dropped
    # (its ps_contacts row is stale): only Asterisk knows.
    asterisk.endpoints = {"3001": registered_endpoint("3001", "Reachable", port=5071),
                          "3002": registered_endpoint("3002", "Unreachable", port=5072)}

    page = admin_client.get(reverse("telephony:phone_list")).content.decode()

    rows = {ext: page[page.index(f">{ext}<"):][:1500] for ext in ("3001", "3002", "3003")}
    assert ">Registered<" in rows["3001"] and ">Reachable<" in rows["3001"]
    assert "127.0.0.1:5071" in rows["3001"]
    assert ">Cannot be reached<" in rows["3002"] and ">Registered<" not in rows["3002"]
    assert "Asterisk cannot reach this phone right now" in rows["3002"]
    assert ">Not registered<" in rows["3003"].split("</tr>")[0]
    assert 'id="registration-problem"' not in page
    assert len(asterisk.actions_named("PJSIPShowContacts")) == 1


def test_a_phones_own_user_agent_is_shown_escaped_on_the_list_and_detail(admin_client, server,
                                                                         asterisk):
    # The phone chooses its User-Agent header; the registration cell is built in Python
    # (telephony/templatetags/registration.py), so escaping is its job, not the template's.
    phone = Phone.objects.create(extension="3001", name="Desk", server=server)
    hostile = "<script>alert(1)</script>"
    asterisk.endpoints = {"3001": registered_endpoint("3001", user_agent=hostile)}

    for url in (reverse("telephony:phone_list"),
                reverse("telephony:phone_detail", args=[phone.pk])):
        page = admin_client.get(url).content.decode()
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and ">Registered<" in page


def test_the_detail_page_says_when_the_phone_cannot_be_reached(admin_client, server, asterisk):
    phone = Phone.objects.create(extension="3002", name="Desk", server=server)
    asterisk.endpoints = {"3002": registered_endpoint("3002", "Unreachable")}

    page = admin_client.get(reverse("telephony:phone_detail", args=[phone.pk])).content.decode()

    assert ">Cannot be reached<" in page and ">Registered<" not in page


def test_without_asterisk_the_list_reads_ps_contacts_and_says_so(admin_client, server):
    Phone.objects.create(extension="3001", name="Desk", server=server)
    add_contact("3001", expires=int(time.time()) + 3600)
    server.ami_port = closed_port()
    server.save()

    page = admin_client.get(reverse("telephony:phone_list")).content.decode()

    assert ">Registered<" in page and "not checked with Asterisk" in page
    assert 'id="registration-problem"' in page
    assert "Asterisk could not be asked (pbx1: Cannot reach Asterisk AMI" in page
