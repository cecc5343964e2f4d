"""The agent's dialer session page in headless Chromium, against the live test server: the
wrap-up form after a dialer call (the agent panel's, shared), pushed by the page's event
stream, and saving a disposition puts the agent back to ready or paused; in preview mode the
next lead with Dial and Skip, the call through the ARI fake (its events handled as run_dialer
does), then the disposition and the next lead."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import browser_login
from telephony.dialer.preview import previews_reserve
from telephony.models import (
    AgentSession,
    CallingRules,
    DialAttempt,
    Disposition,
    Lead,
    PauseCode,
    PreviewSkip,
)
from telephony.realtime.carriers import carrier_object_id
from telephony.services.carriers import carrier_create
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.campaign_helpers import lead_for, running_campaign
from telephony.tests.dialer_helpers import Line, ledger_clear, ready_session
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.browser
State = AgentSession.State


@pytest.fixture
def short_streams(page, settings):
    # Short push streams: the page must survive the server ending one (EventSource
    # reconnects), and none outlives the test's database.
    settings.DIALER_PUSH_STREAM_SECONDS = 2
    settings.DIALER_PUSH_INTERVAL_MS = 50
    yield
    ledger_clear()  # before the live server's flush, which the sealed rows would refuse


def in_wrap_up(agent) -> tuple[AgentSession, DialAttempt, Lead]:
    campaign = running_campaign("Spring", agents=[agent], wrapup_seconds=0)
    Disposition.objects.create(campaign=campaign, name="Sale", policy="final", order=1)
    Disposition.objects.create(campaign=campaign, name="Call back", policy="callback", order=2)
    lead = lead_for(campaign, "+12125550100", first_name="Ana", data={"Plan": "gold"},
                    state=Lead.State.IN_PROGRESS, attempts=1)
    now = timezone.now()
    attempt = DialAttempt.objects.create(
        campaign_id=campaign.pk, lead_id=lead.pk, phone_number=lead.phone_number,
        created_at=now - datetime.timedelta(seconds=40), status=DialAttempt.Status.COMPLETED,
        connected_at=now - datetime.timedelta(seconds=30), ended_at=now, agent_id=agent.pk,
        agent_username=agent.username)
    session = AgentSession.objects.create(
        agent=agent, campaign=campaign, server=make_server(), live_agent_id=agent.pk,
        state=State.WRAP_UP, state_since=now, attempt_id=attempt.pk, connected_at=now)
    return session, attempt, lead


def leave(page) -> None:
    page.goto("about:blank")  # let the last stream end before the test database goes
    time.sleep(2.2)


def test_the_agent_dispositions_a_dialer_call_and_is_ready_again(page, agent, short_streams):
    session, attempt, lead = in_wrap_up(agent)
    browser_login(page, "bob", "pw-bob-123")
    page.goto(page.base_url + "/telephony/agent/dialer/")

    wrapup = page.locator("#wrapup")
    expect(wrapup).to_be_visible()
    expect(page.locator("#session-state")).to_have_text("Wrap-up")
    expect(wrapup.locator("[data-lead]")).to_contain_text("Plan: gold")
    select = wrapup.locator("#disposition")
    expect(select.locator("option")).to_have_text(["Sale", "Call back"])
    callback = wrapup.locator("[data-callback]")
    expect(callback).to_be_hidden()
    select.select_option(label="Call back")
    expect(callback).to_be_visible()  # callback fields only for a call-back disposition
    select.select_option(label="Sale")
    expect(callback).to_be_hidden()
    wrapup.locator("#disposition-notes").fill("Took the gold plan.")
    wrapup.get_by_role("button", name="Save disposition").click()

    expect(page.locator("#session-state")).to_have_text("Ready")
    expect(wrapup).to_be_hidden()
    expect(page.locator("#screen-pop")).to_be_hidden()
    attempt.refresh_from_db()
    lead.refresh_from_db()
    assert (attempt.disposition, lead.state) == ("Sale", Lead.State.FINAL)
    assert attempt.closed_at is not None
    leave(page)


def test_a_campaign_that_requires_a_disposition_offers_no_ready_in_wrap_up(
        page, agent, short_streams):
    session, attempt, lead = in_wrap_up(agent)
    session.campaign.disposition_required = True
    session.campaign.save()
    PauseCode.objects.create(code="lunch", name="Lunch")
    browser_login(page, "bob", "pw-bob-123")
    page.goto(page.base_url + "/telephony/agent/dialer/")

    wrapup = page.locator("#wrapup")
    ready = page.get_by_role("button", name="Ready", exact=True)
    pause = page.get_by_role("button", name="Pause", exact=True)
    expect(wrapup).to_be_visible()
    expect(page.locator("#session-state")).to_have_text("Wrap-up")
    expect(page.locator("#disposition-required")).to_be_visible()
    expect(ready).to_be_hidden()
    expect(pause).to_be_hidden()
    wrapup.get_by_role("button", name="Save disposition").click()

    # The disposition moved the agent on; Pause is offered again, and would be accepted.
    expect(page.locator("#session-state")).to_have_text("Ready")
    expect(page.locator("#disposition-required")).to_be_hidden()
    expect(pause).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.disposition == "Sale" and attempt.closed_at is not None
    pause.click()
    expect(page.locator("#session-state")).to_have_text("Paused")
    expect(ready).to_be_visible()
    leave(page)


def test_the_agent_may_pause_after_the_disposition(page, agent, short_streams):
    session, attempt, _lead = in_wrap_up(agent)
    PauseCode.objects.create(code="lunch", name="Lunch")
    browser_login(page, "bob", "pw-bob-123")
    page.goto(page.base_url + "/telephony/agent/dialer/")
    wrapup = page.locator("#wrapup")
    expect(wrapup).to_be_visible()
    wrapup.locator("#wrapup-then").select_option(label="Pause: Lunch")
    wrapup.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#session-state")).to_have_text("Paused")
    expect(page.locator("#session-pause")).to_have_text("(Lunch)")
    session.refresh_from_db()
    assert session.state == State.PAUSED and session.pause_code.code == "lunch"
    leave(page)


@pytest.fixture
def preview_floor(fake_ari, server, agent, agent_phone):
    """Bob ready in session on a running preview campaign with three leads (the ARI fake)."""
    carrier = carrier_create(name="Acme", slug="acme", server=server, host="sip.acme.example",
                             port=5060, transport="transport-udp", auth_mode="ip",
                             codecs="ulaw,alaw", is_active=True, order=0)
    trunk = carrier_object_id("acme")
    fake_ari.endpoints[("PJSIP", trunk)] = {"technology": "PJSIP", "resource": trunk,
                                            "state": "online", "channel_ids": []}
    rules = CallingRules.objects.create(name="Always", weekdays="1234567",
                                        start_time=datetime.time(0, 0),
                                        end_time=datetime.time(23, 59, 59))
    campaign = running_campaign("Preview", dial_mode="preview", carrier=carrier,
                                calling_rules=rules, agents=[agent], wrapup_seconds=0)
    Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    leads = [lead_for(campaign, f"+1212555{n:04d}", first_name=f"Lead {n}",
                      data={"Plan": f"p{n}"}) for n in range(3)]
    line = Line(fake_ari, server)
    session = ready_session(line, agent, campaign)
    assert previews_reserve() == 1  # what run_dialer does each tick
    yield line, session, leads
    line.client.close()


def test_the_agent_previews_dials_dispositions_and_skips(page, agent, preview_floor,
                                                         short_streams):
    line, session, leads = preview_floor
    browser_login(page, "bob", "pw-bob-123")
    page.goto(page.base_url + "/telephony/agent/dialer/")
    pop = page.locator("#screen-pop")
    name = pop.locator('[data-pop="name"]')
    expect(page.locator("#pop-title")).to_have_text("Next lead")
    expect(name).to_have_text("Lead 0")
    expect(pop.locator('[data-pop="data"]')).to_contain_text("p0")

    page.get_by_role("button", name="Dial").click()
    expect(page.locator("#session-state")).to_have_text("Reserved")
    expect(page.locator("#preview-actions")).to_be_hidden()
    attempt = DialAttempt.objects.get()
    assert (attempt.lead_id, attempt.worker) == (leads[0].pk, "preview")
    line.fake.answer(str(attempt.pk))  # the customer answers
    line.deliver()
    expect(page.locator("#session-state")).to_have_text("On call")
    expect(page.locator("#pop-title")).to_have_text("Customer")
    expect(name).to_have_text("Lead 0")
    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()
    expect(page.locator("#session-state")).to_have_text("Wrap-up")
    wrapup = page.locator("#wrapup")
    expect(wrapup).to_be_visible()
    wrapup.get_by_role("button", name="Save disposition").click()

    expect(page.locator("#session-state")).to_have_text("Ready")
    expect(page.locator("#pop-title")).to_have_text("Next lead")
    expect(name).to_have_text("Lead 1")
    attempt.refresh_from_db()
    assert attempt.disposition == "Sale" and attempt.closed_at is not None

    page.locator("#skip-reason").fill("Asked for next week")
    page.get_by_role("button", name="Skip").click()
    expect(name).to_have_text("Lead 2")
    skip = PreviewSkip.objects.get()
    assert (skip.lead_id, skip.reason) == (leads[1].pk, "Asked for next week")
    assert DialAttempt.objects.count() == 1  # a skip dials nothing
    leave(page)
