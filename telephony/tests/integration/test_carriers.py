"""Carriers (SIP trunks) on a real Asterisk 22: what their rows make Asterisk do (issue #12).
The phones are sipp on 127.0.0.1, the carriers sipp on 127.0.0.2 unless a test says otherwise."""

import pytest

from telephony.models import Carrier, Phone
from telephony.services.carriers import carrier_create
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    carrier_on,
    scaffold,
    statuses_until,
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
