"""The users CSV import in headless Chromium: a semicolon file of agents with bad rows gives
one report of every bad row, the dry run writes nothing, the confirmation creates the agents
with their extensions, and the page then offers their set-password links."""

import pytest
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.models import Phone
from telephony.tests.phone_helpers import make_server
from users.models import User

pytestmark = pytest.mark.browser


def test_an_admin_imports_agents_from_a_semicolon_file_and_confirms(page, django_user_model,
                                                                    tmp_path):
    _make_user(django_user_model, "alice", "Admin")
    make_server()
    csv_file = tmp_path / "agents.csv"
    csv_file.write_bytes("\ufeffusername;name;email;role;extension\r\n"
                         "dana;Dana Müller;dana@example.com;Agent;2001\r\n"
                         "eve;Eve Polastri;eve@example.com;Agent;2002\r\n"
                         "bad name;Bad;;Agent;\r\n"
                         "fox;Fox;not-an-email;Agent;\r\n"
                         "gil;Gil;;Boss;\r\n".encode())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/users/")
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("link", name="Download the template")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check file").click()

    expect(page.locator("#import-summary")).to_contain_text("2 new")
    expect(page.locator("#import-summary")).to_contain_text("3 rejected")
    rejected = page.get_by_role("table", name="Rejected rows")
    for line, value in (("4", "bad name"), ("5", "not-an-email"), ("6", "Boss")):
        expect(rejected.get_by_role("row").filter(has_text=value)).to_contain_text(line)
    assert not User.objects.filter(username__in=["dana", "eve"]).exists()

    page.get_by_role("button", name="Import 2 users, skip 3 rejected").click()
    expect(page.get_by_text("Import done: 2 created, 0 updated; 3 rejected row(s) skipped"))\
        .to_be_visible()
    expect(page.get_by_role("link", name="Download their set-password links")).to_be_visible()
    assert list(Phone.objects.values_list("extension", "user__username")) == [
        ("2001", "dana"), ("2002", "eve")]
    assert Phone.objects.get(extension="2001").name == "Dana Müller"
    assert not User.objects.get(username="dana").has_usable_password()
