"""The admin's first day, in headless Chromium: register a server, create an agent and an
extension for them, and see the agent land on a panel showing that extension. Every step goes
through the real pages and forms; the rows Asterisk will read are checked at the end."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import PsAuth, PsEndpoint

pytestmark = pytest.mark.browser


def field(page, label: str):
    """A form control by its label as crispy renders it: 'Name*' for a required field."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\*?\s*$"))


def test_an_admin_provisions_an_agent_who_then_sees_their_extension(page, django_user_model):
    admin = django_user_model.objects.create_user("alice", password="pw-alice-123")
    admin.groups.add(Group.objects.get(name="Admin"))
    browser_login(page, "alice", "pw-alice-123")

    page.goto(page.base_url + "/telephony/servers/add/")
    for label, value in {"Name": "pbx1", "Server IP / host": "10.0.0.5",
                         "AMI host": "10.0.0.5", "AMI username": "autodialer",
                         "AMI password": "ami-secret-1", "ARI host": "10.0.0.5",
                         "ARI username": "autodialer", "ARI password": "ari-secret-1"}.items():
        field(page, label).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Server pbx1")).to_be_visible()
    assert "ami-secret-1" not in page.content()

    page.goto(page.base_url + "/users/add/")
    field(page, "Username").fill("dave")
    field(page, "Role").select_option("Agent")
    field(page, "Password").fill("correct-horse-battery")
    field(page, "Password (again)").fill("correct-horse-battery")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("User dave created.")).to_be_visible()

    page.goto(page.base_url + "/telephony/extensions/add/")
    field(page, "Extension").fill("1001")
    field(page, "Name").fill("Dave desk")
    field(page, "Agent").select_option(label="dave")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Extension 1001")).to_be_visible()

    endpoint = PsEndpoint.objects.get(id="1001")
    assert (endpoint.aors, endpoint.auth, endpoint.context, endpoint.allow) == (
        "1001", "1001", "agents", "ulaw,alaw")
    secret = PsAuth.objects.get(id="1001").password
    assert len(secret) >= 20

    page.context.clear_cookies()
    browser_login(page, "dave", "correct-horse-battery")
    expect(page).to_have_url(page.base_url + "/telephony/agent/")
    expect(page.get_by_text("Extension 1001")).to_be_visible()
    expect(page.get_by_text("Your softphone is not registered")).to_be_visible()
