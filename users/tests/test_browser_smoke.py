import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from conftest import browser_login

pytestmark = pytest.mark.browser


def _user(django_user_model, username, role):
    user = django_user_model.objects.create_user(username=username,
                                                 password="pw-" + username + "-123")
    user.groups.add(Group.objects.get(name=role))
    return user


def test_admin_logs_in_and_sees_dashboard_agent_is_refused_user_admin(page, django_user_model):
    _user(django_user_model, "alice", "Admin")
    _user(django_user_model, "bob", "Agent")

    browser_login(page, "alice", "pw-alice-123")
    assert page.url.endswith("/dashboard/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_role("link", name="Users").is_visible()

    page.context.clear_cookies()
    browser_login(page, "bob", "pw-bob-123")
    assert "/users/login/" not in page.url
    assert page.get_by_role("link", name="Users").count() == 0
    response = page.goto(page.base_url + "/users/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_deactivating_asks_on_a_confirmation_page_and_cancel_changes_nothing(
        page, django_user_model):
    # Self-contained: its own users (no shared personas), and every database check waits for
    # the navigation that the click starts.
    _user(django_user_model, "alma", "Admin")
    target = _user(django_user_model, "tobias", "Agent")
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_login(page, "alma", "pw-alma-123")
    page.goto(page.base_url + "/users/?q=tobias")

    page.get_by_role("link", name="Deactivate").click()
    page.wait_for_url(f"**/users/{target.pk}/deactivate/")
    expect(page.get_by_role("heading", name="Deactivate tobias?")).to_be_visible()
    expect(page.get_by_role("navigation", name="breadcrumb")).to_contain_text("Users")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url("**/users/")
    target.refresh_from_db()
    assert target.is_active

    page.goto(page.base_url + f"/users/{target.pk}/deactivate/")
    page.get_by_role("button", name="Deactivate tobias").click()
    page.wait_for_url("**/users/")
    expect(page.get_by_text("User tobias deactivated")).to_be_visible()
    target.refresh_from_db()
    assert not target.is_active
    assert dialogs == []  # one confirmation pattern: a page, never a JavaScript confirm()
    assert blocked == []


def test_the_nav_marks_the_section_and_every_page_has_breadcrumbs(page, django_user_model):
    page.goto(page.base_url + "/users/login/")
    expect(page.locator(".login-card")).to_contain_text("autodialer")
    _user(django_user_model, "alma", "Admin")
    browser_login(page, "alma", "pw-alma-123")
    page.goto(page.base_url + "/telephony/extensions/add/")
    telephony = page.get_by_role("button", name="Telephony")
    expect(telephony).to_have_class(re.compile(r"\bactive\b"))
    telephony.click()
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Extensions", exact=True)).to_have_attribute(
        "aria-current", "page")
    crumbs = page.get_by_role("navigation", name="breadcrumb")
    expect(crumbs).to_have_text(re.compile(r"Home\s*Telephony\s*Extensions\s*Add"))
    expect(crumbs.locator("[aria-current=page]")).to_have_text("Add")
    page.goto(page.base_url + "/users/")
    expect(main_nav.get_by_role("link", name="Users", exact=True)).to_have_attribute(
        "aria-current", "page")
