"""Onboarding an agent, in headless Chromium: the extension form's agent picker searches the
agents without a phone, the users list then shows the agent's extension, and a locked-out agent
carries a Locked badge that leads to the page that clears it."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.models import Phone
from telephony.services.phones import phone_create
from telephony.tests.phone_helpers import make_server
from users.models import LoginFailure

pytestmark = pytest.mark.browser


def test_an_admin_finds_a_free_agent_by_search_and_sees_the_extension_in_users(
        page, django_user_model):
    _make_user(django_user_model, "alice", "Admin")
    server = make_server()
    for n in range(60):
        _make_user(django_user_model, f"agent{n:03d}", "Agent")
    busy = _make_user(django_user_model, "agent042x", "Agent")
    phone_create(extension="1001", name="Taken", server=server, user=busy)
    spare = phone_create(extension="1005", name="Spare", server=server)
    browser_login(page, "alice", "pw-alice-123")

    page.goto(page.base_url + f"/telephony/extensions/{spare.pk}/edit/")
    page.get_by_label("Search agents").fill("agent042")
    agent = page.get_by_role("combobox", name="Agent")
    # Only agent042 matches among those without a phone; agent042x has one already.
    expect(agent.locator("option")).to_have_count(2)  # "---------" and agent042
    expect(page.locator(".form-text[role=status]")).to_contain_text("1 agent(s) without a phone")
    agent.select_option(label="agent042")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Extension 1005")).to_be_visible()
    assert Phone.objects.get(pk=spare.pk).user.username == "agent042"

    LoginFailure.objects.bulk_create(LoginFailure(username="agent007", ip="10.0.0.9",
                                                  at=timezone.now()) for _ in range(5))
    page.goto(page.base_url + "/users/?q=agent04")
    row = page.get_by_role("row").filter(has_text="agent042x")
    expect(row.get_by_role("link", name="1001")).to_be_visible()
    page.goto(page.base_url + "/users/?q=agent007")
    page.get_by_role("link", name="Locked").click()
    expect(page.get_by_text("locked out")).to_be_visible()
    page.get_by_role("button", name="Clear failed logins").click()
    page.wait_for_url("**/edit/")
    assert not LoginFailure.objects.filter(username="agent007").exists()
