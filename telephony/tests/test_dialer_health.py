"""The dialer page says why calls are or are not going out: no worker, no carrier (or none on
an agent's server), a server whose events no worker has, every agent paused, no dialable lead
(and why), a carrier rejecting every call. Each from what the worker itself reads."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.dialer.heartbeat import STALE_SECONDS, worker_gone, worker_heartbeat
from telephony.models import (
    AgentSession,
    AsteriskServer,
    CallingRules,
    DialAttempt,
    DialerWorker,
    Phone,
)
from telephony.services.carriers import carrier_create
from telephony.services.dialer_health import FAILING_RUN, dialer_health
from telephony.tests.campaign_helpers import lead_for, running_campaign

pytestmark = pytest.mark.django_db
State = AgentSession.State


@pytest.fixture
def floor(server, agent, other_agent):
    carrier = carrier_create(name="Acme", slug="acme", server=server, host="sip.acme.example",
                             port=5060, transport="transport-udp", auth_mode="ip",
                             codecs="ulaw,alaw", is_active=True, order=0)
    # Open whenever the suite runs: the findings must not depend on the hour.
    always = CallingRules.objects.create(name="Always", weekdays="1234567",
                                         start_time=datetime.time(0, 0),
                                         end_time=datetime.time(23, 59, 59))
    campaign = running_campaign(dial_mode="progressive", carrier=carrier,
                                agents=[agent, other_agent], calling_rules=always)
    lead_for(campaign, "+12125550100", timezone="UTC")
    return campaign


def _session(campaign, user, server, state=State.READY, extension="1001"):
    phone = Phone.objects.create(extension=extension, name=user.username, server=server,
                                 user=user)
    now = timezone.now()
    return AgentSession.objects.create(agent=user, campaign=campaign, phone=phone,
                                       server=server, live_agent_id=user.pk, state=state,
                                       connected_at=now, idle_since=now)


def _alive(*servers, up=True):
    worker_heartbeat(name="host:1", started_at=timezone.now(),
                     servers_up={server.pk: up for server in servers})


def texts(health, level=None):
    return [f.text for f in health.findings if level is None or f.level == level]


def test_a_campaign_with_agents_leads_a_carrier_and_a_worker_is_dialling(floor, server, agent):
    _session(floor, agent, server)
    _alive(server)
    health = dialer_health(floor)
    assert health.dialling and texts(health, "success")[0].startswith("Dialling")
    assert (health.dialable, health.leads_total) == (1, 1)


def test_no_worker_or_a_silent_one_is_said(floor, server, agent):
    _session(floor, agent, server)
    assert "No dialer worker is running" in texts(dialer_health(floor), "danger")[0]
    _alive(server)
    assert dialer_health(floor).dialling
    # Killed (no clean stop): its heartbeat ages out.
    later = timezone.now() + timedelta(seconds=STALE_SECONDS + 1)
    assert "No dialer worker" in texts(dialer_health(floor, now=later), "danger")[0]
    worker_gone("host:1")  # a clean stop removes it at once
    assert not DialerWorker.objects.exists()


def test_a_server_whose_events_no_worker_has_is_named(floor, server, agent):
    _session(floor, agent, server)
    _alive(server, up=False)
    danger = texts(dialer_health(floor), "danger")
    assert danger == [f"Server {server.name}: no dialer worker has its ARI events (Asterisk "
                      f"down, or ARI refusing): its 1 agent(s) get no calls."]


def test_agents_on_a_server_without_the_campaigns_carrier_are_named(floor, server, agent,
                                                                    other_agent):
    server_b = AsteriskServer.objects.create(name="lab-b", host="10.0.0.9")
    _session(floor, agent, server)
    _session(floor, other_agent, server_b, extension="2001")
    _alive(server, server_b)
    assert texts(dialer_health(floor), "danger") == [
        "1 agent(s) on server lab-b, where the campaign has no active carrier: they get no "
        "calls."]


def test_no_agent_and_every_agent_paused_are_said(floor, server, agent, other_agent):
    _alive(server)
    assert texts(dialer_health(floor), "warning") == ["No agent is in session on this campaign."]
    _session(floor, agent, server, state=State.PAUSED)
    _session(floor, other_agent, server, state=State.PAUSED, extension="1002")
    assert texts(dialer_health(floor), "warning") == [
        "All 2 agents in session are paused: no new call starts until one is ready."]


def test_no_dialable_lead_says_why(floor, server, agent):
    _session(floor, agent, server)
    _alive(server)
    floor.leads.update(attempts=floor.max_attempts)
    health = dialer_health(floor)
    assert health.dialable == 0
    assert texts(health, "warning") == ["No lead is dialable now (attempts exhausted: 1)."]
    assert health.blocked == [("Attempts exhausted", 1)]


def test_a_carrier_rejecting_every_call_is_said_with_its_reason(floor, server, agent):
    _session(floor, agent, server)
    _alive(server)
    now = timezone.now()
    for n in range(FAILING_RUN):
        DialAttempt.objects.create(campaign_id=floor.pk, phone_number=f"+1212555{n:04d}",
                                   created_at=now, ended_at=now, closed_at=now,
                                   status=DialAttempt.Status.FAILED, hangup_cause=34,
                                   hangup_cause_text="Circuit/channel congestion")
    assert texts(dialer_health(floor), "danger") == [
        f"The last {FAILING_RUN} calls all failed (Circuit/channel congestion (cause 34)): is "
        f"the carrier rejecting them?"]
    # One call getting through ends the alarm.
    DialAttempt.objects.create(campaign_id=floor.pk, phone_number="+12125559999",
                               created_at=now, ended_at=now + timedelta(seconds=1),
                               status=DialAttempt.Status.NO_ANSWER)
    assert texts(dialer_health(floor), "danger") == []


def test_the_dialer_page_shows_the_findings_to_supervisors_only(floor, server, agent,
                                                                supervisor_client, agent_client):
    _session(floor, agent, server)
    url = reverse("telephony:campaign_dialer_live", args=[floor.pk])
    page = supervisor_client.get(url).content.decode()
    assert 'data-finding="danger"' in page and "No dialer worker is running" in page
    assert 'id="leads-dialable">1 of 1<' in page
    assert agent_client.get(url).status_code == 403


def test_the_heartbeat_keeps_which_servers_events_the_worker_has(server):
    worker_heartbeat(name="host:42", started_at=timezone.now(),
                     servers_up={server.pk: True, 99: False})
    row = DialerWorker.objects.get(name="host:42")
    assert row.server_up(server.pk) and not row.server_up(99) and not row.server_up(7)
