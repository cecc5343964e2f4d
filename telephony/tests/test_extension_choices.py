"""Context and transport accept only what Asterisk has, on every way in (form, bulk, CSV);
extensions are never cut to 15 digits; names in any language are accepted."""

import pytest
from django.urls import reverse

from telephony.models import DialplanContext, Phone, PsEndpoint
from telephony.services.phone_csv import phone_csv_import
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_bulk_and_csv import bulk_data
from telephony.tests.test_phone_views import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    return make_server()


@pytest.mark.parametrize("field,value", [("context", "agnets"),
                                         ("transport", "transport-tcp")])
def test_the_form_refuses_a_context_or_transport_asterisk_does_not_have(admin_client, server,
                                                                        field, value):
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, **{field: value}))
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors[field][0]
    assert not Phone.objects.exists()


def test_the_form_accepts_a_dialplan_context_and_a_declared_transport(admin_client, server,
                                                                      settings):
    DialplanContext.objects.create(name="sales")
    settings.PJSIP_EXTRA_TRANSPORTS = ["transport-tls"]
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, context="sales", transport="transport-tls"))
    assert response.status_code == 302
    endpoint = PsEndpoint.objects.get(id="2001")
    assert (endpoint.context, endpoint.transport) == ("sales", "transport-tls")


def test_editing_an_old_extension_keeps_its_undefined_context_visible(admin_client, server):
    phone = Phone.objects.create(extension="1001", name="Old", server=server, context="legacy")
    page = admin_client.get(reverse("telephony:phone_edit", args=[phone.pk])).content.decode()
    assert 'value="legacy" selected' in page
    assert "legacy (not defined in Asterisk: choose another)" in page


def test_bulk_create_refuses_an_unknown_context(admin_client, server):
    response = admin_client.post(reverse("telephony:phone_bulk_create"),
                                 {**bulk_data(server, context="agnets"), "confirm": "1"})
    assert "context" in response.context["form"].errors
    assert not Phone.objects.exists()


def test_a_csv_row_with_an_unknown_context_or_transport_is_a_row_error(server):
    text = ("extension,name,server,context,transport\n"
            "2001,A,pbx1,agnets,\n"
            "2002,B,pbx1,,transport-tcp\n"
            "2003,C,pbx1,agents,transport-udp\n")
    plan = phone_csv_import(data=text.encode())
    assert [(p.line, p.reason) for p in plan.problems] == [
        (2, "context: 'agnets' is not a dialplan context Asterisk has; use one of agents, "
            "from-trunk."),
        (3, "transport: 'transport-tcp' is not a transport Asterisk has; use one of "
            "transport-udp."),
    ]
    # The good row is written, the rejected ones are not.
    assert list(Phone.objects.values_list("extension", flat=True)) == ["2003"]


def test_a_thirty_digit_extension_gets_the_digits_message_once(admin_client, server):
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, extension="1" * 30))
    assert response.context["form"].errors["extension"] == [
        "An extension is 2 to 15 digits, nothing else (no letters, spaces or signs)."]
    assert 'maxlength="15"' not in response.content.decode()
    assert not Phone.objects.exists()


def test_a_thirty_digit_bulk_range_is_refused_with_the_digits_message(admin_client, server):
    response = admin_client.post(reverse("telephony:phone_bulk_create"),
                                 bulk_data(server, start="1" * 30, end="1" * 30))
    assert response.context["form"].errors["start"] == [
        "An extension is 2 to 15 digits, nothing else (no letters, spaces or signs)."]


@pytest.mark.parametrize("name", ["Jürgen Müller", "Łukasz Żółw", "王芳", "O'Brien (desk)"])
def test_names_in_any_language_are_accepted(admin_client, server, name):
    response = admin_client.post(reverse("telephony:phone_create"),
                                 form_data(server, name=name, caller_id_name=name))
    assert response.status_code == 302, response.context["form"].errors
    assert PsEndpoint.objects.get(id="2001").callerid == f'"{name}"'


def test_a_csv_import_accepts_accented_names(server):
    phone_csv_import(data="extension,name,server,caller_id_name\n2001,Zoë,pbx1,Zoë\n".encode())
    assert PsEndpoint.objects.get(id="2001").callerid == '"Zoë"'
