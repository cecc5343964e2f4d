"""Carriers (SIP trunks) on a real Asterisk 22: what their rows make Asterisk do (issue #12).
The phones are sipp on 127.0.0.1, the carriers sipp on 127.0.0.2 unless a test says otherwise."""

import pytest

from telephony.models import Carrier, Phone
from telephony.services.carriers import carrier_create

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
