"""An admin reads the audit log in headless Chromium: their own login, the extension they
created with its values (the secret masked), filtered by kind and exported."""

import re

import pytest
from playwright.sync_api import expect

from conftest import browser_login
from telephony.tests.phone_helpers import make_server
from telephony.tests.test_admin_journey_browser import field

pytestmark = pytest.mark.browser


def test_an_admin_finds_who_created_an_extension_and_exports_it(page, admin_user):
    make_server()
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/add/")
    field(page, "Extension").fill("1001")
    field(page, "Name").fill("Front desk")
    field(page, "Secret (SIP password)").fill("Typed-Secret-123")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Extension 1001")).to_be_visible()

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    login_row = page.get_by_role("row").filter(has_text="Logged in")
    expect(login_row).to_contain_text("alice")
    expect(login_row).to_contain_text("127.0.0.1")

    page.get_by_label("Kind").select_option(label="Extension")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Created")
    expect(rows.first).to_contain_text("1001 (Front desk)")
    expect(rows.first).to_contain_text("Front desk")
    expect(rows.first).to_contain_text("********")
    assert "Typed-Secret-123" not in page.content()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert re.search(r"alice,127\.0\.0\.1,Created,Extension,1001 \(Front desk\),name,,Front desk",
                     text)
    assert "Typed-Secret-123" not in text
