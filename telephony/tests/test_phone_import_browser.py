"""The extensions CSV import in headless Chromium: a semicolon file (as Excel saves it in most
of Europe) with bad rows gives one report of every bad row, the dry run writes nothing, and the
confirmation imports the good rows."""

import pytest
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.models import Phone, PsEndpoint
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.browser


def test_an_admin_imports_a_semicolon_file_sees_every_bad_row_and_confirms(
        page, django_user_model, tmp_path):
    _make_user(django_user_model, "alice", "Admin")
    _make_user(django_user_model, "bob", "Agent")
    _make_user(django_user_model, "sam", "Supervisor")
    make_server()
    csv_file = tmp_path / "extensions.csv"
    csv_file.write_bytes("\ufeffextension;name;server;context;user\r\n"
                         "1001;Jürgen Müller;pbx1;agents;bob\r\n"
                         "1002;Front desk;pbx1;agents;\r\n"
                         "10x3;Letters;pbx1;agents;\r\n"
                         "1004;Sam;pbx1;agents;sam\r\n"
                         "1005;Typo;pbx1;agnets;\r\n".encode())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/import/")
    expect(page.get_by_role("link", name="Download the template")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check file").click()

    expect(page.locator("#import-summary")).to_contain_text("2 new")
    expect(page.locator("#import-summary")).to_contain_text("3 rejected")
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row")).to_have_count(4)  # the header and three rows
    for line, value in (("4", "10x3"), ("5", "sam"), ("6", "agnets")):
        expect(rejected.get_by_role("row").filter(has_text=value)).to_contain_text(line)
    assert not Phone.objects.exists()

    page.get_by_role("button", name="Import 2 extensions, skip 3 rejected").click()
    expect(page.get_by_text("Import done: 2 created, 0 updated, written to Asterisk; "
                            "3 rejected row(s) skipped.")).to_be_visible()
    assert list(Phone.objects.values_list("extension", "name", "user__username")) == [
        ("1001", "Jürgen Müller", "bob"), ("1002", "Front desk", None)]
    assert sorted(PsEndpoint.objects.values_list("id", flat=True)) == ["1001", "1002"]
