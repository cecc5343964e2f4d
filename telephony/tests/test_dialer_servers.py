"""One campaign worked by agents on two Asterisk servers: each customer is dialled on the server
of the agent it will be given to, through the campaign's carrier there, and a server whose
ARI events are down stops only its own agents' calls."""

from __future__ import annotations

import pytest

from telephony.asterisk.ari import AriClient
from telephony.dialer.preview import preview_dial, previews_reserve
from telephony.dialer.sessions import SessionError, agent_session_start
from telephony.dialer.worker import dialer_tick
from telephony.forms.campaigns import CampaignForm
from telephony.models import AgentSession, AsteriskServer, DialAttempt, Phone
from telephony.realtime.carriers import carrier_object_id
from telephony.services.asterisk import ari_config_for
from telephony.services.carriers import carrier_create
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc
from telephony.tests.dialer_helpers import Line
from telephony.tests.fakes.ari import FakeAriServer

pytestmark = pytest.mark.django_db
AT = utc(2026, 6, 1, 16, 0)  # 12:00 in New York


def _carrier(name, server):
    return carrier_create(name=name, slug=name.lower(), server=server,
                          host=f"sip.{name.lower()}.example", port=5060,
                          transport="transport-udp", auth_mode="ip", codecs="ulaw,alaw",
                          is_active=True, order=0)


@pytest.fixture
def fake_ari_b():
    with FakeAriServer() as fake:
        yield fake


@pytest.fixture
def two_servers(fake_ari, fake_ari_b, fake_ami, server, agent, other_agent):
    server_b = AsteriskServer.objects.create(
        name="lab-b", host="127.0.0.2", ami_host="127.0.0.1", ami_port=fake_ami.port,
        ami_username=fake_ami.username, ami_password=fake_ami.secret, ari_host="127.0.0.1",
        ari_port=fake_ari_b.port, ari_username=fake_ari_b.username,
        ari_password=fake_ari_b.password)
    Phone.objects.create(extension="1001", name="Bob", server=server, user=agent)
    Phone.objects.create(extension="2001", name="Ann", server=server_b, user=other_agent)
    acme, bravo = _carrier("Acme", server), _carrier("Bravo", server_b)
    # What each Asterisk knows: its own phone and its own trunk.
    for fake, names in ((fake_ari, ("1001", carrier_object_id("acme"))),
                        (fake_ari_b, ("2001", carrier_object_id("bravo")))):
        for name in names:
            fake.endpoints[("PJSIP", name)] = {"technology": "PJSIP", "resource": name,
                                               "state": "online", "channel_ids": []}
    lines = {server.pk: Line(fake_ari, server), server_b.pk: Line(fake_ari_b, server_b)}
    yield server, server_b, acme, bravo, lines
    for line in lines.values():
        line.client.close()


def _start(line, user, campaign) -> AgentSession:
    session = agent_session_start(agent=user, campaign=campaign)
    line.fake.answer(str(session.pk))
    line.deliver()
    session.refresh_from_db()
    return session


def _tick(lines, *, usable=None):
    clients = {pk: AriClient(ari_config_for(line.server)) for pk, line in lines.items()}
    try:
        return dialer_tick(worker="w1", ari_for=lambda server: clients[server.pk], now=AT,
                           server_usable=usable)
    finally:
        for client in clients.values():
            client.close()


def _originates(fake):
    return [r["query"] for r in fake.requests if r["method"] == "POST"
            and r["query"].get("app") and "@" in r["query"].get("endpoint", "")]


def test_each_call_goes_out_on_its_agents_server_through_that_servers_carrier(
        two_servers, agent, other_agent):
    server, server_b, acme, bravo, lines = two_servers
    campaign = running_campaign(dial_mode="progressive", carrier=acme, caller_id_number="5550100",
                                agents=[agent, other_agent])
    campaign.other_carriers.set([bravo])
    for n in range(4):
        lead_for(campaign, f"+1212555{n:04d}")
    _start(lines[server.pk], agent, campaign)
    session_b = _start(lines[server_b.pk], other_agent, campaign)

    report = _tick(lines)

    assert report.launched == 2
    on_a, on_b = _originates(lines[server.pk].fake), _originates(lines[server_b.pk].fake)
    assert [q["endpoint"].split("@")[1] for q in on_a] == [carrier_object_id("acme")]
    assert [q["endpoint"].split("@")[1] for q in on_b] == [carrier_object_id("bravo")]
    attempt_b = DialAttempt.objects.get(pk=on_b[0]["channelId"])
    assert (attempt_b.server_id, attempt_b.carrier_id) == (server_b.pk, bravo.pk)
    # The customer answers on server B: Ann, on B, gets them, in her bridge there.
    lines[server_b.pk].fake.answer(str(attempt_b.pk))
    lines[server_b.pk].deliver()
    attempt_b.refresh_from_db()
    assert (attempt_b.status, attempt_b.agent_id) == (DialAttempt.Status.CONNECTED,
                                                      other_agent.pk)
    adds = [(r["path"], r["query"].get("channel")) for r in lines[server_b.pk].fake.requests
            if r["method"] == "POST" and r["path"].endswith("/addChannel")]
    assert (f"/ari/bridges/agent-{session_b.pk}/addChannel", str(attempt_b.pk)) in adds
    assert not any(channel == str(attempt_b.pk) for _, channel in
                   [(r["path"], r["query"].get("channel")) for r in lines[server.pk].fake.requests
                    if r["path"].endswith("/addChannel")])


def test_a_server_whose_events_are_down_stops_only_its_own_calls(two_servers, agent,
                                                                 other_agent):
    server, server_b, acme, bravo, lines = two_servers
    campaign = running_campaign(dial_mode="progressive", carrier=acme, agents=[agent, other_agent])
    campaign.other_carriers.set([bravo])
    for n in range(4):
        lead_for(campaign, f"+1212555{n:04d}")
    _start(lines[server.pk], agent, campaign)
    _start(lines[server_b.pk], other_agent, campaign)

    report = _tick(lines, usable=lambda pk: pk != server_b.pk)

    assert report.launched == 1
    assert len(_originates(lines[server.pk].fake)) == 1
    assert _originates(lines[server_b.pk].fake) == []
    assert "lab-b: its ARI events are not connected" in report.per_campaign[campaign.pk]
    assert DialAttempt.objects.filter(server_id=server_b.pk).count() == 0


def test_agents_on_a_server_without_the_campaigns_carrier_get_no_calls_and_are_told(
        two_servers, agent, other_agent):
    server, server_b, acme, bravo, lines = two_servers
    campaign = running_campaign(dial_mode="progressive", carrier=acme, agents=[agent, other_agent])
    lead_for(campaign, "+12125550001")
    with pytest.raises(SessionError, match="no carrier on lab-b"):
        agent_session_start(agent=other_agent, campaign=campaign)
    assert not AgentSession.objects.filter(agent=other_agent).exists()
    assert _originates(lines[server_b.pk].fake) == []  # her phone was not even called
    # Before this change, her session counted as a ready agent and a call went out on server A
    # with nobody there to take it: a certain abandon. Only Bob's server dials now.
    _start(lines[server.pk], agent, campaign)
    assert _tick(lines).launched == 1


def test_preview_dials_on_the_agents_server(two_servers, agent, other_agent):
    server, server_b, acme, bravo, lines = two_servers
    campaign = running_campaign(dial_mode="preview", carrier=acme, agents=[other_agent])
    campaign.other_carriers.set([bravo])
    lead_for(campaign, "+12125550001")
    session = _start(lines[server_b.pk], other_agent, campaign)
    previews_reserve(now=AT)
    session.refresh_from_db()

    attempt = preview_dial(session=session, now=AT)

    assert (attempt.server_id, attempt.carrier_id) == (server_b.pk, bravo.pk)
    assert [q["endpoint"].split("@")[1] for q in _originates(lines[server_b.pk].fake)] == [
        carrier_object_id("bravo")]
    assert _originates(lines[server.pk].fake) == []


def _form(**data):
    base = {"name": "Spring", "dial_mode": "progressive", "default_timezone": "America/New_York",
            "ring_timeout": 20, "max_attempts": 5, "max_attempts_per_day": 3,
            "retry_no_answer_minutes": 120, "retry_busy_minutes": 15,
            "retry_congestion_minutes": 10, "retry_machine_minutes": 240,
            "retry_dropped_minutes": 60, "abandon_target_percent": "3",
            "abandon_window": "30d", "wrapup_seconds": 60}
    base.update(data)
    return CampaignForm(base)


def test_the_form_takes_one_carrier_per_server(two_servers):
    server, server_b, acme, bravo, lines = two_servers
    acme2 = _carrier("Acme2", server)
    assert _form(carrier=acme.pk, other_carriers=[bravo.pk]).is_valid()
    same_server = _form(carrier=acme.pk, other_carriers=[acme2.pk])
    assert not same_server.is_valid()
    assert "both on lab: one carrier per server" in same_server.errors["other_carriers"][0]
    twice = _form(carrier=acme.pk, other_carriers=[acme.pk])
    assert "already the main carrier" in twice.errors["other_carriers"][0]
    no_main = _form(other_carriers=[bravo.pk])
    assert "Pick the main carrier first" in no_main.errors["other_carriers"][0]
