"""Carriers (SIP trunks) on a real Asterisk 22: what their rows make Asterisk do (issue #12).
The phones are sipp on 127.0.0.1, the carriers sipp on 127.0.0.2 unless a test says otherwise."""

import pytest
from django.urls import reverse

from telephony.models import Carrier, Phone
from telephony.services.carriers import carrier_create, carrier_update
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    carrier_on,
    scaffold,
    statuses_until,
    wait_for,
)

pytestmark = pytest.mark.integration


def _phone(pbx, extension="7101"):
    return Phone.objects.create(extension=extension, name="Desk", server=pbx.server)


def test_a_credentials_carrier_on_the_phones_address_lets_them_register(pbx):
    # Issue #12 defect 1: its identify row (match 127.0.0.1) took the phone's REGISTER for the
    # trunk's: 404 "AOR '' not found for endpoint 'trunk-acme'".
    carrier_create(name="Acme", slug="acme", server=pbx.server, host="127.0.0.1", port=5999,
                   auth_mode=Carrier.AuthMode.CREDENTIALS, username="acmeuser",
                   password="acme-pw-1")
    phone = _phone(pbx)

    reg = pbx.register("7101", phone.secret)

    assert reg.returncode == 0, reg.received_statuses()
    assert reg.received_statuses() == [401, 200]
    pbx.wait_for_cli("pjsip show contacts", lambda out: "7101/sip:" in out)


def test_an_ip_carrier_on_the_phones_address_does_capture_their_registers(pbx):
    # Why the form warns: Asterisk identifies by source address before user name.
    carrier_create(name="Acme", slug="acme", server=pbx.server, host="127.0.0.1", port=5999,
                   auth_mode=Carrier.AuthMode.IP)
    phone = _phone(pbx)

    reg = pbx.register("7101", phone.secret)

    assert reg.returncode != 0
    statuses = reg.received_statuses()
    assert statuses and set(statuses) == {404}, statuses  # sipp may resend, 404 each time
    assert "AOR '' not found for endpoint 'trunk-acme'" in pbx.instance.log_since_start()


# --- defect 3: the number in the carrier's format, however it was dialled -----------------------

@pytest.mark.parametrize("number_format, extra, received", [
    ("e164_plus", {}, "+15551234567"),
    ("e164", {}, "15551234567"),
    ("national", {"country_code": "1", "national_prefix": "", "international_prefix": "011"},
     "5551234567"),
])
def test_the_carrier_receives_its_format_from_the_app_and_from_a_softphone(
        pbx, django_user_model, events_worker, number_format, extra, received):
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    carrier = pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier, number_format=number_format, **extra)
    scaffold()
    expected = f"INVITE sip:{received}@{CARRIER_ADDRESS}:{carrier.port}"

    pbx.phone("7101", phone.secret)
    status, body = api(client, "call_originate", {"phone_number": "+1 555 123 4567"})
    assert status == 201, body
    assert statuses_until(body["call_id"], {"answered", "failed"})[-1] == "answered"
    invites = [line for line in carrier.wait_for_log("INVITE ") if line.startswith("INVITE ")]
    assert invites == [expected], invites  # the app's call: +E.164 in the dialplan
    pbx.hangup_all()

    call = pbx.dial("7101", phone.secret, "15551234567")  # a softphone, without +
    assert call.wait(15) == 0, call.messages()[-2000:]
    invites = [line for line in carrier.logs() if line.startswith("INVITE ")]
    assert invites == [expected, expected], invites


# --- defect 2: a registering carrier registers once saved ------------------------------------

def carrier_form(pbx, registrar, **overrides):
    data = dict(name="Acme", slug="acme", server=pbx.server.pk, host=CARRIER_ADDRESS,
                port=registrar.port, transport="transport-udp", auth_mode="credentials",
                username="acmeuser", password="acme-pw-1", register="on", codecs=["ulaw", "alaw"],
                number_format="e164_plus", international_prefix="00", strip_digits=0,
                qualify_frequency=60, max_channels=0, is_active="on", order=0)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_carrier_saved_on_the_page_registers_and_the_page_says_registered(pbx, admin_client):
    # Issue #12 defect 2: the ps_registrations row was written and nothing was sent until
    # `module reload res_pjsip_outbound_registration.so`.
    registrar = pbx.sipp_uas("carrier_registrar", address=CARRIER_ADDRESS)

    response = admin_client.post(reverse("telephony:carrier_create"),
                                 carrier_form(pbx, registrar), follow=True)

    assert response.status_code == 200
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    logs = registrar.wait_for_log("REGISTER ", timeout=10)
    assert f"REGISTER sip:{CARRIER_ADDRESS}:{registrar.port}" in logs
    assert any("<sip:acmeuser@" in line for line in logs if line.startswith("FROM"))
    carrier = Carrier.objects.get(slug="acme")
    page = wait_for(lambda: (lambda html: "Registered</span>" in html and html)(
        admin_client.get(reverse("telephony:carrier_detail", args=[carrier.pk]))
        .content.decode()), timeout=5, what="the page showing Registered")
    assert 'registration: <span class="text-success">Registered</span>' in page
    assert "Registered" in pbx.cli("pjsip show registrations")

    # Deleting it reloads too: Asterisk forgets the registration.
    response = admin_client.post(reverse("telephony:carrier_delete", args=[carrier.pk]),
                                 follow=True)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    pbx.wait_for_cli("pjsip show registrations", lambda out: "trunk-acme" not in out)


def test_when_ami_refuses_the_page_saves_and_warns(pbx, admin_client):
    from telephony.models import AsteriskServer

    registrar = pbx.sipp_uas("carrier_registrar", address=CARRIER_ADDRESS)
    AsteriskServer.objects.filter(pk=pbx.server.pk).update(ami_password="wrong-secret")

    response = admin_client.post(reverse("telephony:carrier_create"),
                                 carrier_form(pbx, registrar), follow=True)

    assert Carrier.objects.filter(slug="acme").exists()
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "refused the AMI username/password" in warnings[0], warnings
    assert "Asterisk could not be asked: Asterisk refused" in response.content.decode()


# --- defect 10: qualify, and a carrier that never answers OPTIONS -------------------------------

def _outside_call_through_no_options_carrier(pbx, django_user_model, request, qualify):
    """An agent calls out through a carrier that drops every OPTIONS, with Asterisk restarted
    after the carrier was saved: realtime AORs are qualified only once Asterisk loaded them,
    as in production after any restart (a new realtime AOR is not qualified until then)."""
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    carrier = pbx.sipp_uas("carrier_no_options", address=CARRIER_ADDRESS)
    acme = carrier_on(pbx, carrier, qualify_frequency=qualify)
    scaffold()
    pbx.restart()
    request.getfixturevalue("events_worker")  # listening to the restarted Asterisk
    pbx.phone("7101", phone.secret)
    return client, carrier, acme


def test_with_qualify_off_a_carrier_that_never_answers_options_is_still_called(
        pbx, django_user_model, request, admin_client):
    client, carrier, acme = _outside_call_through_no_options_carrier(
        pbx, django_user_model, request, qualify=0)

    status, body = api(client, "call_originate", {"phone_number": "+15551234567"})

    assert status == 201, body
    assert statuses_until(body["call_id"], {"answered", "failed"})[-1] == "answered"
    assert f"INVITE sip:+15551234567@{CARRIER_ADDRESS}:{carrier.port}" in carrier.logs()
    assert "OPTIONS dropped" not in carrier.logs()  # qualify off: Asterisk sends none
    page = admin_client.get(reverse("telephony:carrier_detail", args=[acme.pk])).content
    assert b"Not qualified" in page


def test_with_qualify_on_an_unanswered_options_makes_the_call_fail_saying_why(
        pbx, django_user_model, request, admin_client):
    from telephony.models import Call
    from telephony.services.call_events import CARRIER_UNREACHABLE

    client, carrier, acme = _outside_call_through_no_options_carrier(
        pbx, django_user_model, request, qualify=60)
    pbx.cli("pjsip qualify trunk-acme")  # the first qualify now, not up to 60 s later
    pbx.wait_for_cli("pjsip show contacts",
                     lambda out: "trunk-acme/" in out and "Unavail" in out, timeout=8)

    status, body = api(client, "call_originate", {"phone_number": "+15551234567"})

    assert status == 201, body
    assert statuses_until(body["call_id"], {"answered", "failed"})[-1] == "failed"
    call = Call.objects.get(pk=body["call_id"])
    assert call.hangup_cause == 3 and call.error_message == CARRIER_UNREACHABLE
    assert not [line for line in carrier.logs() if line.startswith("INVITE")]
    assert "Could not create dialog to invalid URI 'trunk-acme'" in (
        pbx.instance.log_since_start())
    page = admin_client.get(reverse("telephony:carrier_detail", args=[acme.pk])).content
    assert b'<span class="text-danger">Unreachable</span>' in page

    # Turning qualify off on the page's service applies at once (it reloads res_pjsip): the
    # next call reaches the carrier, with no restart.
    acme = carrier_update(carrier=acme, qualify_frequency=0)
    assert acme.warnings == []
    status, body = api(client, "call_originate", {"phone_number": "+15551234567"})
    assert statuses_until(body["call_id"], {"answered", "failed"})[-1] == "answered"
    assert f"INVITE sip:+15551234567@{CARRIER_ADDRESS}:{carrier.port}" in carrier.logs()
