"""An agent's phone that stops answering Asterisk (unplugged, Wi-Fi gone) ends its dialer
session: ContactStatusChange Unreachable with the endpoint offline, as a real Asterisk 22 sends
it (fakes/transcripts/ari_phone_unplugged.txt, integration/test_dialer_phone_lost.py)."""

from __future__ import annotations

import pytest

from telephony.dialer.events import event_wanted
from telephony.dialer.reconcile import dialer_reconcile
from telephony.models import AgentSession, Campaign, DialAttempt
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.dialer_helpers import Line, ready_session
from telephony.tests.test_dialer_events import customer

pytestmark = pytest.mark.django_db
State = AgentSession.State


@pytest.fixture
def line(fake_ari, server):
    fake_ari.endpoints[("PJSIP", "trunk")] = {"technology": "PJSIP", "resource": "trunk",
                                              "state": "online", "channel_ids": []}
    result = Line(fake_ari, server)
    yield result
    result.client.close()


@pytest.fixture
def campaign():
    return Campaign.objects.create(name="Spring", status=Campaign.Status.RUNNING)


def _hangups(fake) -> list[str]:
    return [r["path"].rsplit("/", 1)[1] for r in fake.requests
            if r["method"] == "DELETE" and r["path"].startswith("/ari/channels/")]


def test_a_ready_agent_is_watched_and_an_unplugged_phone_ends_the_session(line, agent,
                                                                        agent_phone, campaign):
    session = ready_session(line, agent, campaign)
    assert "PJSIP/1001" in line.fake.subscribed_endpoints

    line.fake.unplug("1001")
    line.deliver()

    session.refresh_from_db()
    assert session.state == State.LOGGED_OUT and not session.is_live
    assert session.end_reason.startswith("phone unreachable")
    assert str(session.pk) in _hangups(line.fake)  # its leg was still up in Asterisk
    assert session.bridge_id not in line.fake.bridges


def test_a_customer_with_the_agent_is_hung_up_and_the_call_completes(line, agent, agent_phone,
                                                                    campaign):
    session = ready_session(line, agent, campaign)
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    assert DialAttempt.objects.get(pk=attempt.pk).status == DialAttempt.Status.CONNECTED

    line.fake.unplug("1001")
    line.deliver()

    attempt.refresh_from_db()
    assert str(attempt.pk) in _hangups(line.fake)
    assert attempt.status == DialAttempt.Status.COMPLETED and attempt.ended_at is not None
    assert not AgentSession.objects.get(pk=session.pk).is_live


def test_one_contact_failing_while_another_answers_changes_nothing():
    # A phone with two contacts: the endpoint stays online, its calls still ring somewhere.
    event = {"type": "ContactStatusChange",
             "endpoint": {"technology": "PJSIP", "resource": "1001", "state": "online",
                          "channel_ids": []},
             "contact_info": {"uri": "sip:1001@10.0.0.5:5060", "contact_status": "Unreachable",
                              "aor": "1001", "roundtrip_usec": "0"}}
    assert not event_wanted(event)
    reachable = {**event, "endpoint": {**event["endpoint"], "state": "offline"},
                 "contact_info": {**event["contact_info"], "contact_status": "Reachable"}}
    assert not event_wanted(reachable)
    assert event_wanted({**event, "endpoint": {**event["endpoint"], "state": "offline"}})


def test_another_servers_phone_of_the_same_extension_is_left_alone(line, agent, agent_phone,
                                                                   campaign, fake_ami):
    from telephony.dialer.events import handle_event
    from telephony.models import AsteriskServer

    session = ready_session(line, agent, campaign)
    elsewhere = AsteriskServer.objects.create(name="lab-b", host="10.0.0.9")
    line.fake.unplug("1001")
    for event in line.fake.events_sent[line.handled:]:
        handle_event(elsewhere, event, line.client)
    assert AgentSession.objects.get(pk=session.pk).is_live


def test_reconcile_watches_the_phones_of_live_sessions_again(line, agent, agent_phone,
                                                            campaign):
    # After a reconnect Asterisk may have dropped the application's subscriptions.
    session = ready_session(line, agent, campaign)
    AgentSession.objects.filter(pk=session.pk).update(started_at=session.started_at.replace(
        year=session.started_at.year - 1))
    line.fake.subscribed_endpoints.clear()
    dialer_reconcile(line.server, line.client)
    assert "PJSIP/1001" in line.fake.subscribed_endpoints
