"""Carriers (SIP trunks): saving one writes its ps_endpoints, ps_aors, ps_auths,
ps_registrations and ps_endpoint_id_ips rows under `trunk-<slug>` in the same transaction;
rename, deactivate and delete remove them; bad input writes nothing; the pages are admin-only.
Runs on SQLite, PostgreSQL and MariaDB."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.models import (
    Carrier,
    PsAor,
    PsAuth,
    PsContact,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)
from telephony.models.phones import Phone
from telephony.realtime.carriers import (
    TABLES,
    carrier_object_ids,
    carrier_rows_for,
    carrier_sync,
    carrier_unsync,
)
from telephony.realtime.sync import carriers_sync_all, realtime_orphans
from telephony.services.carriers import carrier_create, carrier_delete, carrier_update

pytestmark = pytest.mark.django_db

ENDPOINT = {
    "id": "trunk-acme", "transport": "transport-udp", "aors": "trunk-acme",
    "context": "from-trunk", "disallow": "all", "allow": "ulaw,alaw", "direct_media": "no",
    "force_rport": "yes", "rtp_symmetric": "yes", "rewrite_contact": "yes",
    "dtmf_mode": "rfc4733", "outbound_auth": "trunk-acme", "from_user": "acmeuser",
    "from_domain": "acme.example", "device_state_busy_at": 10,
}
AOR = {"id": "trunk-acme", "contact": "sip:sip.acme.example:5060", "max_contacts": 1,
       "remove_existing": "yes", "qualify_frequency": 60}
AUTH = {"id": "trunk-acme", "auth_type": "userpass", "username": "acmeuser",
        "password": "s3cret-pw"}
REGISTRATION = {
    "id": "trunk-acme", "server_uri": "sip:sip.acme.example:5060",
    "client_uri": "sip:acmeuser@sip.acme.example:5060", "contact_user": "acmeuser",
    "outbound_auth": "trunk-acme", "transport": "transport-udp", "expiration": 3600,
    "retry_interval": 60, "forbidden_retry_interval": 300, "fatal_retry_interval": 300,
    "max_retries": 10000, "max_random_initial_delay": 1, "auth_rejection_permanent": "no",
    "line": "yes", "endpoint": "trunk-acme",
}
IDENTIFY = {"id": "trunk-acme", "endpoint": "trunk-acme", "match": "sip.acme.example"}


def stored(object_id="trunk-acme"):
    """Every row of the id in the five tables, NULL columns left out: exactly what Asterisk
    reads (realtime treats NULL as "use the default")."""
    return {
        table: [{k: v for k, v in row.items() if v is not None}
                for row in model.objects.filter(id=object_id).values()]
        for table, model in TABLES.items()
    }


def nothing_stored():
    return sum(model.objects.count() for model in TABLES.values()) == 0


def acme_values(server, **overrides):
    values = dict(
        name="Acme Telecom", slug="acme", server=server, host="sip.acme.example", port=5060,
        transport="transport-udp", auth_mode="credentials", username="acmeuser",
        password="s3cret-pw", register=True, from_user="acmeuser", from_domain="acme.example",
        codecs="ulaw,alaw", number_format="e164_plus", country_code="", national_prefix="",
        international_prefix="00", dial_prefix="", strip_digits=0, qualify_frequency=60,
        caller_id_number="+15551230000", max_channels=10, is_active=True, order=0)
    values.update(overrides)
    return values


@pytest.fixture
def acme(server):
    return carrier_create(**acme_values(server))


def form_data(server, **overrides):
    data = {k: v for k, v in acme_values(server).items() if k != "server"}
    data["server"] = server.pk
    data.update(overrides)
    if isinstance(data.get("codecs"), str):
        data["codecs"] = data["codecs"].split(",")  # one checkbox each, as the page posts
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


# --- the rows written -------------------------------------------------------------------------

def test_a_registering_carrier_writes_its_rows_and_no_identify_row(acme):
    # Issue #12: an identify row (match = host) took every REGISTER from that address for the
    # trunk; a carrier with credentials is found without one.
    assert stored() == {
        "ps_endpoints": [ENDPOINT], "ps_aors": [AOR], "ps_auths": [AUTH],
        "ps_registrations": [REGISTRATION], "ps_endpoint_id_ips": [],
    }


def test_a_credentials_carrier_that_does_not_register_has_no_identify_row_either(server):
    carrier_create(**acme_values(server, register=False, host="127.0.0.1"))
    assert PsEndpointIdIp.objects.count() == 0


def test_an_ip_only_carrier_has_no_auth_and_no_registration(server):
    carrier_create(**acme_values(server, auth_mode="ip", username="x", password="y",
                                 register=True, from_user="", from_domain="", max_channels=0,
                                 host="203.0.113.7", port=5080, codecs="alaw"))
    endpoint = {k: v for k, v in ENDPOINT.items()
                if k not in ("outbound_auth", "from_user", "from_domain",
                             "device_state_busy_at")}
    assert stored() == {
        "ps_endpoints": [{**endpoint, "allow": "alaw"}],
        "ps_aors": [{**AOR, "contact": "sip:203.0.113.7:5080"}],
        "ps_auths": [], "ps_registrations": [],
        "ps_endpoint_id_ips": [{**IDENTIFY, "match": "203.0.113.7"}],
    }
    assert Carrier.objects.get().username == ""


def test_a_carrier_that_does_not_register_keeps_its_outbound_auth(server):
    carrier_create(**acme_values(server, register=False))
    rows = stored()
    assert rows["ps_auths"] == [AUTH]
    assert rows["ps_registrations"] == []
    assert rows["ps_endpoints"] == [ENDPOINT]


def test_an_ipv6_host_is_bracketed_in_uris_and_bare_in_the_identify_match(server):
    carrier_create(**acme_values(server, host="2001:db8::10"))
    rows = stored()
    assert rows["ps_aors"][0]["contact"] == "sip:[2001:db8::10]:5060"
    assert rows["ps_registrations"][0]["server_uri"] == "sip:[2001:db8::10]:5060"
    carrier_update(carrier=Carrier.objects.get(), auth_mode="ip")
    assert stored()["ps_endpoint_id_ips"][0]["match"] == "2001:db8::10"


def test_ids_are_lowercase_and_cannot_be_an_extension(server):
    carrier = carrier_create(**acme_values(server, slug="Big-Trunk"))
    assert carrier_object_ids(carrier) == ["trunk-big-trunk"]
    assert PsEndpoint.objects.filter(id="trunk-big-trunk").exists()
    Phone.objects.create(extension="1001", name="Desk", server=server)
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {"1001", "trunk-big-trunk"}


def test_turning_registration_off_removes_only_the_registration(acme):
    carrier_update(carrier=acme, register=False)
    rows = stored()
    assert rows["ps_registrations"] == []
    assert rows["ps_auths"] == [AUTH]
    assert rows["ps_endpoint_id_ips"] == []


def test_switching_to_ip_authentication_writes_the_identify_row_and_back_removes_it(acme):
    carrier_update(carrier=acme, auth_mode="ip")
    assert stored()["ps_endpoint_id_ips"] == [IDENTIFY]
    carrier_update(carrier=acme, auth_mode="credentials", username="acmeuser",
                   password="s3cret-pw")
    assert stored()["ps_endpoint_id_ips"] == []


def test_editing_the_host_rewrites_every_row_that_names_it(acme):
    carrier_update(carrier=acme, host="10.9.8.7", port=5070)
    rows = stored()
    assert rows["ps_aors"] == [{**AOR, "contact": "sip:10.9.8.7:5070"}]
    assert rows["ps_registrations"][0]["server_uri"] == "sip:10.9.8.7:5070"
    assert rows["ps_registrations"][0]["client_uri"] == "sip:acmeuser@10.9.8.7:5070"


def test_a_new_slug_removes_the_old_ids(acme):
    carrier_update(carrier=acme, slug="acme2")
    assert stored("trunk-acme") == {table: [] for table in TABLES}
    assert stored("trunk-acme2")["ps_endpoints"][0]["aors"] == "trunk-acme2"
    assert len(stored("trunk-acme2")["ps_registrations"]) == 1


def test_deactivating_removes_every_row_and_reactivating_writes_them_back(acme):
    carrier_update(carrier=acme, is_active=False)
    assert nothing_stored()
    carrier_update(carrier=acme, is_active=True)
    assert stored()["ps_registrations"] == [REGISTRATION]


def test_deleting_removes_every_row_and_leftover_contacts(acme):
    PsContact.objects.create(id="trunk-acme^3B@abc", endpoint="trunk-acme", uri="sip:x@y")
    carrier_delete(carrier=acme)
    assert nothing_stored()
    assert PsContact.objects.count() == 0
    assert Carrier.objects.count() == 0


def test_sync_all_rewrites_tampered_rows_and_reports_orphans(acme, server):
    carrier_create(**acme_values(server, name="Old", slug="old", is_active=False))
    PsEndpoint.objects.filter(id="trunk-acme").update(allow="g729", direct_media="yes")
    PsEndpoint.objects.create(id="trunk-gone", context="from-trunk")
    assert carriers_sync_all() == (1, 4)
    assert stored()["ps_endpoints"] == [ENDPOINT]
    assert stored("trunk-old") == {table: [] for table in TABLES}
    assert ("ps_endpoints", "trunk-gone") in realtime_orphans()


def test_unsync_takes_one_id_or_several(acme):
    assert carrier_unsync("trunk-acme") == 4
    carrier_sync(acme)
    assert carrier_unsync(carrier_object_ids(acme)) == 4
    carrier_sync(acme)
    assert carrier_unsync(["trunk-acme", "trunk-none"]) == 4


def test_rows_for_the_detail_page_mask_the_password(acme):
    rows = carrier_rows_for(acme)
    assert rows["ps_auths"] == [{**AUTH, "password": "********"}]
    assert carrier_rows_for(acme, reveal_secrets=True)["ps_auths"] == [AUTH]


def test_the_inbound_context_can_be_configured(server, settings):
    settings.CARRIER_INBOUND_CONTEXT = "inbound"
    carrier_create(**acme_values(server))
    assert stored()["ps_endpoints"][0]["context"] == "inbound"


# --- the pages and bad input ------------------------------------------------------------------

def test_admin_creates_a_carrier_and_sees_its_rows(admin_client, server):
    response = admin_client.post(reverse("telephony:carrier_create"),
                                 form_data(server, slug=""))
    carrier = Carrier.objects.get()
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert carrier.slug == "acme-telecom"
    assert stored("trunk-acme-telecom")["ps_auths"][0]["password"] == "s3cret-pw"
    page = admin_client.get(reverse("telephony:carrier_detail", args=[carrier.pk]))
    html = page.content.decode()
    assert "sip:acmeuser@sip.acme.example:5060" in html
    assert "s3cret-pw" not in html
    assert "add prefix" not in html and "strip 0" not in html  # no empty values (issue #15)
    assert "<code>+${EXTEN}</code>" in html  # the route of numbers dialled without +


def test_the_form_warns_when_an_ip_carrier_shares_the_address_phones_register_from(
        admin_client, server):
    PsContact.objects.create(id="7101^3B@a1", endpoint="7101", uri="sip:7101@10.0.0.5:5070",
                             via_addr="10.0.0.5", via_port=5070)
    PsContact.objects.create(id="7102^3B@b2", endpoint="7102", uri="sip:7102@10.0.0.9:5070",
                             via_addr="10.0.0.9", via_port=5070)
    response = admin_client.post(reverse("telephony:carrier_create"), form_data(
        server, auth_mode="ip", host="10.0.0.5", register=False), follow=True)
    carrier = Carrier.objects.get()  # a warning, not an error: the carrier is saved
    warnings = [str(m) for m in response.context["messages"] if "Phones register" in str(m)]
    assert len(warnings) == 1 and "Phones register from 10.0.0.5 (7101)" in warnings[0]
    assert "7102" not in warnings[0]
    edit = admin_client.get(reverse("telephony:carrier_edit", args=[carrier.pk]))
    assert "Phones register from 10.0.0.5" in edit.content.decode()


def test_a_credentials_carrier_on_the_phones_address_gets_no_warning(admin_client, server):
    PsContact.objects.create(id="7101^3B@a1", endpoint="7101", uri="sip:7101@10.0.0.5:5070",
                             via_addr="10.0.0.5", via_port=5070)
    response = admin_client.post(reverse("telephony:carrier_create"),
                                 form_data(server, host="10.0.0.5"), follow=True)
    assert Carrier.objects.count() == 1
    assert not [m for m in response.context["messages"] if "Phones register" in str(m)]


def test_codecs_are_the_extensions_checkboxes_kept_in_their_order(admin_client, acme, server):
    page = admin_client.get(reverse("telephony:carrier_edit", args=[acme.pk])).content.decode()
    assert 'name="codecs" value="g722"' in page and 'type="checkbox"' in page
    assert 'value="ulaw"' in page and "checked" in page
    response = admin_client.post(reverse("telephony:carrier_edit", args=[acme.pk]),
                                 form_data(server, codecs="g722,ulaw", password=""))
    assert response.status_code == 302
    assert stored()["ps_endpoints"][0]["allow"] == "ulaw,g722"  # the list's order, as phones


def test_editing_with_an_empty_password_keeps_it(admin_client, acme, server):
    response = admin_client.post(reverse("telephony:carrier_edit", args=[acme.pk]),
                                 form_data(server, password="", port=5062))
    assert response.status_code == 302
    assert stored()["ps_auths"] == [AUTH]
    assert stored()["ps_aors"][0]["contact"] == "sip:sip.acme.example:5062"


def test_unchecking_active_in_the_form_removes_the_rows(admin_client, acme, server):
    admin_client.post(reverse("telephony:carrier_edit", args=[acme.pk]),
                      form_data(server, is_active=False))
    assert nothing_stored()


@pytest.mark.parametrize("overrides, field, message", [
    ({"host": "sip acme.example"}, "host", "no spaces"),
    ({"host": "sip.acme.example:5060"}, "host", "no spaces, ports"),
    ({"port": "70000"}, "port", "65535"),
    ({"port": "0"}, "port", "greater than or equal to 1"),
    ({"password": "pa;ss"}, "password", "cannot contain ';' or '^'"),
    ({"password": "pa^3Bss"}, "password", "cannot contain ';' or '^'"),
    ({"username": "user@acme"}, "username", "no spaces, '@'"),
    ({"username": ""}, "username", "Required when"),
    ({"auth_mode": "ip", "register": True}, "register", "needs a username and password"),
    ({"codecs": "ulaw,mp3"}, "codecs", "mp3 is not one of the available choices"),
    ({"codecs": []}, "codecs", "This field is required"),
    ({"from_domain": "a" * 30 + ".example.com"}, "from_domain", "at most 40 characters"),
    ({"host": "h" * 70 + ".example.com"}, "host", "at most 80 characters"),
    ({"username": "u" * 41}, "username", "at most 40 characters"),
    ({"password": "p" * 81}, "password", "at most 80 characters"),
    ({"dial_prefix": "9;"}, "dial_prefix", "digits"),
    ({"slug": "acme;x"}, "slug", "letters"),
    ({"transport": "transport udp"}, "transport", "no spaces"),
])
def test_bad_carrier_input_is_refused_with_a_clear_error_and_nothing_written(
        admin_client, server, overrides, field, message):
    response = admin_client.post(reverse("telephony:carrier_create"),
                                 form_data(server, **overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert Carrier.objects.count() == 0
    assert nothing_stored()


def test_a_bad_edit_leaves_the_rows_as_they_were(admin_client, acme, server):
    before = stored()
    response = admin_client.post(reverse("telephony:carrier_edit", args=[acme.pk]),
                                 form_data(server, host="bad host", port="70000"))
    assert set(response.context["form"].errors) == {"host", "port"}
    assert stored() == before


def test_a_slug_differing_only_in_case_is_refused(admin_client, acme, server):
    response = admin_client.post(reverse("telephony:carrier_create"),
                                 form_data(server, name="Other", slug="ACME"))
    assert "already uses this slug" in response.context["form"].errors["slug"][0]


def test_deleting_through_the_page_removes_the_rows(admin_client, acme):
    response = admin_client.post(reverse("telephony:carrier_delete", args=[acme.pk]))
    assert response.status_code == 302
    assert nothing_stored()


def test_the_carrier_list_query_count_does_not_grow_with_carriers(admin_client, server):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse("telephony:carrier_list")).status_code == 200
        return len(queries)

    carrier_create(**acme_values(server))
    first = count()
    for slug in ("b", "c", "d"):
        carrier_create(**acme_values(server, name=slug, slug=slug))
    assert count() == first


def test_the_django_admin_saves_and_deletes_through_the_model(server, django_user_model):
    from django.test import Client

    root = django_user_model.objects.create_superuser("root", password="pw-root-123")
    http = Client()
    http.force_login(root)
    assert http.get(reverse("admin:telephony_carrier_changelist")).status_code == 200
    carrier = carrier_create(**acme_values(server))
    http.post(reverse("admin:telephony_carrier_changelist"),
              {"action": "delete_selected", "_selected_action": [carrier.pk], "post": "yes"})
    assert Carrier.objects.count() == 0
    assert nothing_stored()


# --- permissions ------------------------------------------------------------------------------

def _urls(carrier):
    return [
        ("get", reverse("telephony:carrier_list")),
        ("get", reverse("telephony:carrier_create")),
        ("get", reverse("telephony:carrier_detail", args=[carrier.pk])),
        ("get", reverse("telephony:carrier_edit", args=[carrier.pk])),
        ("get", reverse("telephony:carrier_delete", args=[carrier.pk])),
        ("post", reverse("telephony:carrier_delete", args=[carrier.pk])),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, acme):
    for method, url in _urls(acme):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("users:login")), url
    assert len(stored()["ps_endpoints"]) == 1


def test_agents_and_supervisors_are_refused(agent_client, supervisor_client, acme):
    for http in (agent_client, supervisor_client):
        for method, url in _urls(acme):
            assert getattr(http, method)(url).status_code == 403, url
    assert len(stored()["ps_endpoints"]) == 1


def test_admins_may_use_every_page(admin_client, acme):
    for method, url in _urls(acme):
        response = getattr(admin_client, method)(url)
        assert response.status_code == (200 if method == "get" else 302), url


def test_the_tables_helper_covers_the_five_carrier_tables():
    assert TABLES == {"ps_endpoints": PsEndpoint, "ps_aors": PsAor, "ps_auths": PsAuth,
                      "ps_registrations": PsRegistration, "ps_endpoint_id_ips": PsEndpointIdIp}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"host": "h" * 81}, "host"),
    ({"username": "u" * 41}, "username"),
    ({"from_user": "f" * 41}, "from_user"),
    ({"host": "sip.acme.example\r\nX"}, "host"),
    # res_config_odbc splits on ';' and decodes '^XX' (docs/asterisk-behaviour.md): stored
    # whole, read back cut.
    ({"password": "se;cret^41xyz"}, "password"),
    ({"username": "acme;user"}, "username"),
    ({"from_user": "x;y"}, "from_user"),
    ({"codecs": "ulaw;alaw"}, "codecs"),
])
def test_the_service_refuses_what_the_form_would_and_writes_nothing(server, overrides, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        carrier_create(**acme_values(server, **overrides))

    assert field in caught.value.message_dict
    assert Carrier.objects.count() == 0
    assert nothing_stored()



def test_slugs_differing_only_in_case_are_one_asterisk_id_and_refused(server):
    from django.core.exceptions import ValidationError

    first = carrier_create(**acme_values(server, slug="acme"))
    with pytest.raises(ValidationError) as caught:
        carrier_create(**acme_values(server, name="Acme again", slug="ACME"))

    assert "slug" in caught.value.message_dict
    assert list(Carrier.objects.values_list("slug", flat=True)) == ["acme"]
    # The first trunk's rows are intact: the second never got to delete them.
    assert carrier_object_ids(first) == ["trunk-acme"]
    assert PsEndpoint.objects.filter(id="trunk-acme").count() == 1
    assert PsAuth.objects.get(id="trunk-acme").username == "acmeuser"


def test_a_script_saving_the_model_directly_cannot_write_what_asterisk_would_cut(server):
    carrier = Carrier(**acme_values(server, password="se;cret"))

    with pytest.raises(ValueError, match="ps_auths.password of carrier Acme Telecom contains"):
        carrier.save()

    assert not Carrier.objects.exists()
    assert nothing_stored()


def test_the_form_comes_in_titled_sections_with_every_field_once(admin_client, server):
    from telephony.forms.carriers import SECTIONS, CarrierForm

    placed = [name for _title, names in SECTIONS for name in names]
    assert sorted(placed) == sorted(CarrierForm().fields)  # a new field needs its section
    page = admin_client.get(reverse("telephony:carrier_create")).content.decode()
    starts = [page.index(f"<legend>{title}</legend>") for title, _names in SECTIONS]
    assert starts == sorted(starts)  # in order, each once
    for (title, names), start, end in zip(SECTIONS, starts, starts[1:] + [len(page)],
                                          strict=True):
        for name in names:
            assert f'id="div_id_{name}"' in page[start:end], (title, name)
    form = page[page.index('<form method="post" class="col-lg-6"'):]
    assert form[:form.index("</form>")].count('name="csrfmiddlewaretoken"') == 1


def test_the_detail_page_prints_only_what_is_set(admin_client, server):
    bare = carrier_create(**acme_values(server, auth_mode="ip", username="", password="",
                                        register=False, from_user="", from_domain="",
                                        caller_id_number="", max_channels=0))
    html = admin_client.get(reverse("telephony:carrier_detail", args=[bare.pk])).content.decode()
    for absent in ("From</dt>", "Caller ID</dt>", "prefix</dt>", "Then strip", " as <span"):
        assert absent not in html, absent
    assert "no limit" in html and "IP address only" in html
    full = carrier_create(**acme_values(server, name="Beta", slug="beta", dial_prefix="99",
                                        strip_digits=1))
    html = admin_client.get(reverse("telephony:carrier_detail", args=[full.pk])).content.decode()
    assert "acmeuser@acme.example" in html and "+15551230000" in html
    assert "Then add prefix</dt>" in html and "1 character(s) from the front" in html
    assert "at most 10" in html
