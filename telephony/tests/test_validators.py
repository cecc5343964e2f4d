"""Strict validators (issue 11, item 5): patterns anchored with \\Z (a `$` let a final newline
through), RFC-shaped SIP user parts and hosts, no '+' alone as a number, no line breaks or
text-direction overrides in names. Both sides: what must be refused and what must still pass."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from telephony.asterisk.dialplan_syntax import validate_context_name
from telephony.models import AsteriskServer, Carrier
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_carriers import form_data as carrier_form
from telephony.tests.test_server_views import form_data as server_form
from telephony.validators import (
    caller_id_name_validator,
    caller_id_number_validator,
    context_name_validator,
    credential_validator,
    dial_prefix_validator,
    display_name_validator,
    extension_validator,
    hostname_validator,
    odbc_value_validator,
    safe_text_validator,
    sip_user_validator,
)

GOOD = [(extension_validator, "1001"), (context_name_validator, "agents"),
        (safe_text_validator, "Desk 1"), (caller_id_name_validator, "Bob"),
        (caller_id_number_validator, "+15551234"), (odbc_value_validator, "x"),
        (credential_validator, "secret"), (sip_user_validator, "acme.user"),
        (dial_prefix_validator, "00"), (hostname_validator, "sip.example.com"),
        (display_name_validator, "Acme"), (validate_context_name, "agents")]


@pytest.mark.parametrize("validator, value", GOOD, ids=[str(i) for i in range(len(GOOD))])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r", "\x00"])
def test_no_validator_accepts_a_value_with_a_line_break_at_its_end(validator, value, ending):
    validator(value)  # the value itself is fine
    with pytest.raises(ValidationError):
        validator(value + ending)


@pytest.mark.parametrize("value", list(",&$()'*=%!~") + ["user%00", "us er", "u@h", "u:p",
                                                          "u;x", "u^x", "ü"])
def test_sip_user_parts_are_letters_digits_and_four_marks(value):
    with pytest.raises(ValidationError):
        sip_user_validator("user" + value if len(value) == 1 else value)


@pytest.mark.parametrize("value", ["cafe:5060", "[abcd", "abcd]", "[cafe:5060]",
                                   "999.999.999.999", "1.2.3.4.5", "10.0.0", "256.1.1.1",
                                   "sip:host", "host:5060", "-bad.example", "bad-.example",
                                   "a..b", ".a", "a.", "a b", "h\u00f6st", "x" * 64 + ".com",
                                   "[2001:db8::1]:5060", "", "1.2.3.4/24"])
def test_hosts_are_names_ipv4_or_ipv6_only(value):
    with pytest.raises(ValidationError):
        hostname_validator(value)


@pytest.mark.parametrize("value", ["sip.example.com", "localhost", "cafe", "192.0.2.10",
                                   "2001:db8::10", "[2001:db8::10]", "::1", "a-b.c-d.example",
                                   "10.0.0.5", "x1.example"])
def test_real_hosts_pass(value):
    hostname_validator(value)


@pytest.mark.parametrize("value", ["+", "++1", "1+", "+ 1"])
def test_a_plus_alone_is_not_a_caller_id_number(value):
    with pytest.raises(ValidationError):
        caller_id_number_validator(value)
    caller_id_number_validator("")  # no number at all is still allowed


@pytest.mark.parametrize("value", ["Acme\r\nInc", "Acme\n", "\u202eemca", "Ac\u200fme",
                                   "Acme\u2028", "Ac\u0085me", "Ac\x00me", "A\u2066c"])
def test_names_refuse_line_breaks_and_direction_overrides(value):
    with pytest.raises(ValidationError):
        display_name_validator(value)
    display_name_validator("T\u00e9l\u00e9com Acme (Paris) 2")


# --- through the pages -------------------------------------------------------------------------

@pytest.fixture
def server():
    return make_server()


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", [
    ("username", "acme,x"), ("username", "acme&PJSIP/1"), ("username", "user%00"),
    ("from_user", "a$(b)"), ("from_user", "a'=*!~"), ("host", "cafe:5060"), ("host", "[abcd"),
    ("host", "999.999.999.999"), ("caller_id_number", "+"), ("name", "Acme\r\nInc"),
    ("name", "\u202eAcme"),
])
def test_the_carrier_page_refuses_each_value_and_writes_nothing(admin_client, server, field,
                                                                value):
    response = admin_client.post(reverse("telephony:carrier_create"),
                                 carrier_form(server, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Carrier.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["ami_password", "ari_password"])
def test_the_server_page_refuses_a_credential_ending_in_a_newline(admin_client, field):
    response = admin_client.post(reverse("telephony:server_create"),
                                 server_form(**{field: "Secret-42\n"}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AsteriskServer.objects.exists()


@pytest.mark.django_db
def test_a_model_saved_without_the_form_refuses_a_trailing_newline(server):
    server.ami_password = "Secret-42\n"
    with pytest.raises(ValidationError) as caught:
        server.full_clean()
    assert "ami_password" in caught.value.message_dict
