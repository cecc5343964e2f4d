"""The carrier pages in headless Chromium: an admin fills the form section by section (its
titled sections and the extensions' codec checkboxes), lands on a detail page that prints only
the values that are set, and sees the trunk's health as Asterisk reports it (the AMI fake
answers PJSIPShowEndpoint and PJSIPShowRegistrationsOutbound with the real Asterisk's frames),
on the detail page and in the list's Health column, changing when Asterisk's answer changes."""

import re

import pytest
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import Carrier, PsEndpoint, PsRegistration
from telephony.tests.call_fixtures import fake_ami  # noqa: F401  (a fixture)
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_admin_journey_browser import field

pytestmark = pytest.mark.browser

SECTIONS = ["Carrier", "Where it is", "Authentication", "Codecs", "Numbers", "Calls"]


def contact(status: str, usec: str) -> list[dict[str, str]]:
    return [{"Event": "ContactStatusDetail", "AOR": "trunk-acme-telecom",
             "URI": "sip:sip.acme.example:5060", "Status": status, "RoundtripUsec": usec,
             "EndpointName": "trunk-acme-telecom"}]


def test_an_admin_creates_a_carrier_and_sees_what_asterisk_says_of_it(page, admin_user,
                                                                     fake_ami):  # noqa: F811
    make_server("pbx1", ami_port=fake_ami.port, ami_username=fake_ami.username,
                ami_password=fake_ami.secret)
    fake_ami.registrations = {"trunk-acme-telecom": "Registered"}
    fake_ami.endpoints["trunk-acme-telecom"] = contact("Reachable", "1530")
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/carriers/new/")

    legends = page.locator("form fieldset.form-section > legend").all_inner_texts()
    assert [text.strip() for text in legends] == SECTIONS
    carrier = page.get_by_role("group", name="Carrier")
    field(carrier, "Name").fill("Acme Telecom")
    where = page.get_by_role("group", name="Where it is")
    field(where, "Host").fill("sip.acme.example")
    auth = page.get_by_role("group", name="Authentication")
    field(auth, "Auth mode").select_option("credentials")
    field(auth, "Username").fill("acmeuser")
    field(auth, "Password").fill("s3cret-pw")
    auth.get_by_label("Register").check()
    # The extensions' codec widget: one checkbox per known codec, ulaw and alaw ticked.
    codecs = page.get_by_role("group", name="Codecs")
    boxes = codecs.get_by_role("checkbox")
    expect(boxes).to_have_count(12)
    expect(codecs.get_by_label("G.711 µ-law (ulaw)")).to_be_checked()
    expect(codecs.get_by_label("G.711 A-law (alaw)")).to_be_checked()
    codecs.get_by_label("G.711 A-law (alaw)").uncheck()
    codecs.get_by_label("G.722 wideband (g722)").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Acme Telecom"))).to_be_visible()
    saved = Carrier.objects.get()
    assert saved.codecs == "ulaw,g722"
    assert PsEndpoint.objects.get(id="trunk-acme-telecom").allow == "ulaw,g722"
    assert PsRegistration.objects.filter(id="trunk-acme-telecom").exists()
    settings = page.locator("#carrier-settings")
    expect(settings).to_contain_text("sip.acme.example:5060 over transport-udp")
    expect(settings).to_contain_text("Username and password as acmeuser")
    expect(settings).to_contain_text("ulaw,g722")
    # Only what is set: no prefix, strip, caller ID or "From" line for values left empty.
    numbers = page.locator("#carrier-numbers")
    expect(numbers).not_to_contain_text("prefix")
    expect(numbers).not_to_contain_text("strip")
    expect(numbers).not_to_contain_text("Caller ID")
    for value in page.locator("dl dd").all_inner_texts():
        assert value.strip() and "“”" not in value and '""' not in value, value
    assert "s3cret-pw" not in page.content()
    # What Asterisk says: the qualify round trip and the outbound registration.
    expect(page.locator("#carrier-health")).to_have_text(
        "Reachable (1.5 ms); registration: Registered")

    page.get_by_role("link", name="Carriers").first.click()
    row = page.get_by_role("row", name=re.compile("Acme Telecom"))
    expect(row).to_contain_text("Reachable (1.5 ms); registration: Registered")
    # The column is Asterisk's answer now, not a stored one.
    fake_ami.registrations = {"trunk-acme-telecom": "Rejected"}
    fake_ami.endpoints["trunk-acme-telecom"] = contact("Unreachable", "N/A")
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Acme Telecom"))).to_contain_text(
        "Unreachable; registration: Rejected")


def test_a_carrier_whose_asterisk_does_not_answer_says_so(page, admin_user):
    from telephony.services.carriers import carrier_create
    from telephony.tests.fakes.ami import closed_port

    server = make_server("pbx1", ami_port=closed_port())
    carrier = carrier_create(
        name="Acme Telecom", slug="acme", server=server, host="sip.acme.example", port=5060,
        transport="transport-udp", auth_mode="ip", username="", password="", register=False,
        from_user="", from_domain="", codecs="ulaw", number_format="e164_plus",
        country_code="", national_prefix="", international_prefix="", dial_prefix="",
        strip_digits=0, qualify_frequency=60, caller_id_number="", max_channels=0,
        is_active=True, order=0)
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + f"/telephony/carriers/{carrier.pk}/")
    expect(page.locator("#carrier-health")).to_contain_text(
        "Asterisk could not be asked: Cannot reach Asterisk AMI")
    expect(page.locator("#carrier-health")).not_to_contain_text("Reachable")
