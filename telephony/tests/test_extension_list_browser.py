"""The extension list at scale, in headless Chromium: sort by a column header, choose the page
size, jump straight to a numbered page, and deactivate a selection after a confirmation page
that lists what will change; the rows Asterisk reads go with it."""

import pytest
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.models import Phone, PsEndpoint
from telephony.services.phones import phone_bulk_create
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.browser


def first_extension(page) -> str:
    return page.locator("tbody tr td:nth-child(2)").first.inner_text().strip()


def test_an_admin_sorts_pages_and_jumps_without_clicking_next(page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    phone_bulk_create(start="1000", end="1299", name_pattern="Desk {ext}",
                      server=make_server())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/")

    page.get_by_role("link", name="Extension", exact=True).click()  # ascending already: flips
    page.wait_for_url("**sort=-extension**")
    expect(page.locator("tbody tr td:nth-child(2)").first).to_have_text("1299")

    page.get_by_label("Per page").select_option("25")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**per_page=25**")
    assert page.locator("tbody tr").count() == 25
    # 300 rows at 25 a page: the last page is one click away, the sort kept.
    page.get_by_role("link", name="Page 12").click()
    page.wait_for_url("**page=12**")
    expect(page.locator("tbody tr td:nth-child(2)").first).to_have_text("1024")
    assert "sort=-extension" in page.url


def test_an_admin_deactivates_a_selection_after_seeing_what_changes(page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    phone_bulk_create(start="2000", end="2004", name_pattern="Desk {ext}",
                      server=make_server())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/")
    page.get_by_label("Select 2001").check()
    page.get_by_label("Select 2003").check()
    page.get_by_label("With the selected extensions").select_option("deactivate")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("heading", name="Deactivate: 2 extension(s)?")).to_be_visible()
    changes = page.get_by_role("list", name="What will change")
    expect(changes).to_contain_text("2001 (Desk 2001): removed from Asterisk")
    expect(changes).to_contain_text("2003 (Desk 2003)")
    assert PsEndpoint.objects.filter(id="2001").exists()  # nothing until confirmed

    page.get_by_role("button", name="Deactivate 2 extension(s)").click()
    page.wait_for_url("**/telephony/extensions/")
    expect(page.get_by_text("2 extension(s) deactivated.")).to_be_visible()
    assert set(Phone.objects.filter(is_active=False).values_list("extension", flat=True)) == {
        "2001", "2003"}
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {"2000", "2002", "2004"}


def test_select_all_ticks_the_page_for_a_csv_export(page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    phone_bulk_create(start="3000", end="3002", name_pattern="Desk {ext}",
                      server=make_server())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/")
    page.get_by_label("Select every extension on this page").check()
    page.get_by_label("With the selected extensions").select_option("export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Apply").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["3000", "3001", "3002"]


def test_an_admin_deactivates_every_matching_extension_across_pages(page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    server = make_server()
    phone_bulk_create(start="1000", end="1119", name_pattern="Desk {ext}", server=server)
    phone_bulk_create(start="2000", end="2004", name_pattern="Lobby {ext}", server=server)
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/?q=Desk&per_page=25")
    banner = page.locator("#select-matching")
    expect(banner).to_be_hidden()

    page.get_by_label("Select every extension on this page").check()
    expect(banner).to_contain_text("All 25 extensions on this page are selected.")
    page.get_by_role("button", name="Select all 120 matching extensions").click()
    expect(banner).to_contain_text("All 120 matching extensions are selected "
                                   "(every extension matching search “Desk”)")
    page.get_by_label("With the selected extensions").select_option("deactivate")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("heading", name="Deactivate: all 120 matching extension(s)?")
           ).to_be_visible()
    expect(page.get_by_text("This applies to every extension matching search “Desk”: 120 now."
                            )).to_be_visible()
    changes = page.get_by_role("list", name="What will change")
    expect(changes).to_contain_text("120 extension(s) removed from Asterisk, settings kept; "
                                    "0 already inactive, unchanged.")
    expect(changes).to_contain_text("1000 (Desk 1000): removed from Asterisk, settings kept")
    expect(changes).to_contain_text("… and 100 more.")
    assert PsEndpoint.objects.count() == 125  # nothing until confirmed

    page.get_by_role("button", name="Deactivate 120 extension(s)").click()
    page.wait_for_url("**/telephony/extensions/")
    expect(page.get_by_text("120 extension(s) deactivated.")).to_be_visible()
    inactive = set(Phone.objects.filter(is_active=False).values_list("extension", flat=True))
    assert inactive == {str(n) for n in range(1000, 1120)}
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {
        "2000", "2001", "2002", "2003", "2004"}


def test_unticking_a_box_takes_the_selection_back_to_the_page(page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    phone_bulk_create(start="1000", end="1059", name_pattern="Desk {ext}",
                      server=make_server())
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/telephony/extensions/?per_page=25")
    page.get_by_label("Select every extension on this page").check()
    page.get_by_role("button", name="Select all 60 matching extensions").click()
    page.get_by_label("Select 1003").uncheck()
    expect(page.locator("#select-matching")).to_be_hidden()
    page.get_by_label("With the selected extensions").select_option("deactivate")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Deactivate: 24 extension(s)?")).to_be_visible()
