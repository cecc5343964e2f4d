"""The live board in headless Chromium: it follows the database without a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import AsteriskServer, Call, Phone

pytestmark = pytest.mark.browser


def test_the_board_follows_an_agents_call_without_a_reload(page, supervisor, agent):
    server = AsteriskServer.objects.create(
        name="pbx1", host="pbx.example.com", ami_host="127.0.0.1", ami_username="admin",
        ami_password="amipass", ari_host="127.0.0.1", ari_username="ari", ari_password="x")
    phone = Phone.objects.create(extension="1001", name="Bob's desk", server=server, user=agent)

    browser_login(page, "sam", "pw-sam-123")
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("button", name="Telephony").click()
    menu.get_by_role("link", name="Live agents").click()
    bob = page.locator('tr[data-agent="bob"]')
    expect(bob).to_have_attribute("data-state", "offline")
    expect(bob).to_contain_text("Phone offline")

    # What the event listener writes when Bob's customer answers.
    Call.objects.create(user=agent, phone=phone, server=server, number="+15551234567",
                        status=Call.Status.ANSWERED,
                        answered_at=timezone.now() - timedelta(seconds=3))

    expect(bob).to_have_attribute("data-state", "on_call", timeout=8000)
    expect(bob).to_contain_text("+15551234567")
    expect(page.locator('[data-total="on_call"]')).to_have_text("1")


def test_the_dialer_page_follows_the_worker_without_a_reload(page, supervisor, agent):
    """A campaign running with nobody dialling: the page says no worker runs; a run_dialer
    starting (its heartbeat) and an agent in session change what it says, unreloaded."""
    from telephony.dialer.heartbeat import worker_heartbeat
    from telephony.models import AgentSession, Campaign, Carrier

    server = AsteriskServer.objects.create(
        name="pbx1", host="pbx.example.com", ami_host="127.0.0.1", ami_username="admin",
        ami_password="amipass", ari_host="127.0.0.1", ari_username="ari", ari_password="x")
    phone = Phone.objects.create(extension="1001", name="Bob's desk", server=server, user=agent)
    carrier = Carrier.objects.create(name="Acme", slug="acme", server=server,
                                     host="sip.acme.example")
    campaign = Campaign.objects.create(name="Spring", status=Campaign.Status.RUNNING,
                                       dial_mode="progressive", carrier=carrier)
    browser_login(page, "sam", "pw-sam-123")
    page.goto(page.base_url + f"/telephony/campaigns/{campaign.pk}/dialer/")
    findings = page.locator("#dialer-health [data-finding]")
    expect(findings.filter(has_text="No dialer worker is running")).to_have_count(1)
    expect(findings.filter(has_text="No agent is in session")).to_have_count(1)

    worker_heartbeat(name="host:1", started_at=timezone.now(), servers_up={server.pk: True})
    AgentSession.objects.create(agent=agent, campaign=campaign, phone=phone, server=server,
                                live_agent_id=agent.pk, state=AgentSession.State.READY,
                                connected_at=timezone.now(), idle_since=timezone.now())

    expect(findings.filter(has_text="No dialer worker is running")).to_have_count(0,
                                                                               timeout=8000)
    expect(findings.filter(has_text="No agent is in session")).to_have_count(0)
    expect(page.locator('[data-agents="Ready"]')).to_have_text("1")
    expect(page.locator("#live-status")).to_have_text("Updates every 3 s")
