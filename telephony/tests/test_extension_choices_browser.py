"""An admin cannot save what Asterisk does not have, in headless Chromium: context and transport
are choices from what exists, a pasted 30-digit extension is refused (never cut to 15), and an
accented name is accepted and reaches the caller ID Asterisk reads."""

import pytest
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import DialplanContext, Phone, PsEndpoint
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_admin_journey_browser import field

pytestmark = pytest.mark.browser


def options(select) -> list[str]:
    return select.locator("option").evaluate_all("els => els.map(e => e.value)")


def test_context_and_transport_are_choices_of_what_asterisk_has(page, admin_user):
    make_server()
    DialplanContext.objects.create(name="sales")
    browser_login(page, "alice", "pw-alice-123")

    page.goto(page.base_url + "/telephony/extensions/add/")
    context, transport = field(page, "Context"), field(page, "Transport")
    assert context.evaluate("el => el.tagName") == "SELECT"
    assert options(context) == ["agents", "from-trunk", "sales"]
    assert options(transport) == ["transport-udp"]
    expect(context).to_have_value("agents")

    page.goto(page.base_url + "/telephony/extensions/bulk/")
    assert options(field(page, "Context")) == ["agents", "from-trunk", "sales"]
    assert options(field(page, "Transport")) == ["transport-udp"]


def test_a_pasted_long_extension_is_refused_not_cut(page, admin_user):
    make_server()
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/add/")
    extension = field(page, "Extension")
    extension.fill("1" * 30)
    # The browser keeps every digit: no maxlength cuts the paste to 15.
    expect(extension).to_have_value("1" * 30)
    field(page, "Name").fill("Too long")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("An extension is 2 to 15 digits")).to_be_visible()
    expect(field(page, "Extension")).to_have_value("1" * 30)
    assert not Phone.objects.exists()


def test_an_accented_name_reaches_the_caller_id(page, admin_user):
    make_server()
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/add/")
    field(page, "Extension").fill("1001")
    field(page, "Name").fill("Jürgen Müller")
    field(page, "Caller ID name").fill("Jürgen Müller")
    field(page, "Caller ID number").fill("1001")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Extension 1001")).to_be_visible()
    assert Phone.objects.get(extension="1001").name == "Jürgen Müller"
    assert PsEndpoint.objects.get(id="1001").callerid == '"Jürgen Müller" <1001>'
