"""run_dialer's pieces end to end over the ARI fake's WebSocket: the server's event thread
reconciles on connect, then applies the events of an agent session as they stream in."""

from __future__ import annotations

import threading

import pytest

from telephony.dialer.sessions import agent_session_start
from telephony.management.commands.run_dialer import apply_event, follow_server
from telephony.models import AgentSession, Campaign, DialAttempt
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.fakes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_event_thread_puts_an_answered_agent_in_their_bridge(fake_ari, server, agent,
                                                                 agent_phone):
    campaign = Campaign.objects.create(name="Spring")
    session = agent_session_start(agent=agent, campaign=campaign)
    stop = threading.Event()
    thread = threading.Thread(target=follow_server, args=(server, stop), daemon=True)
    thread.start()
    try:
        fake_ari.wait_for_listener()
        wait_until(lambda: any(r["path"] == "/ari/channels" and r["method"] == "GET"
                               for r in fake_ari.requests))  # reconciled on connect
        fake_ari.answer(str(session.pk))
        wait_until(lambda: AgentSession.objects.get(pk=session.pk).state == "ready", 5)
        assert fake_ari.bridges[f"agent-{session.pk}"]["channels"] == [str(session.pk)]
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    fake_ari.remote_hangup(str(session.pk))
    assert AgentSession.objects.get(pk=session.pk).is_live  # nobody listens any more


def test_events_that_are_not_ours_are_skipped(server):
    from telephony.asterisk.ari import AriClient
    from telephony.services.asterisk import ari_config_for

    with AriClient(ari_config_for(server)) as ari:
        assert not apply_event(server, {"type": "ChannelVarset", "channel": {"id": "x"}}, ari)
        assert not apply_event(server, {"type": "StasisStart",
                                        "channel": {"id": "1795718528.10"}}, ari)
    assert not DialAttempt.objects.exists()


def test_the_event_thread_says_when_its_server_may_be_dialled(fake_ari, server):
    """events_up[server] is what dialer_launch reads: True only once the stream is connected
    and reconciled, False as soon as it drops, True again after the reconnect."""
    seen: list[bool] = []

    class Recorded(dict):  # every value the thread writes, in order: the reconnect is quick
        def __setitem__(self, key, value):
            seen.append(value)
            super().__setitem__(key, value)

    events_up = Recorded()
    stop = threading.Event()
    thread = threading.Thread(target=follow_server, args=(server, stop, events_up), daemon=True)
    assert events_up.get(server.pk) is None  # not yet connected: no calls launched there
    thread.start()
    try:
        fake_ari.wait_for_listener()
        wait_until(lambda: events_up.get(server.pk) is True)
        fake_ari.drop_listeners()
        wait_until(lambda: seen[-2:] == [False, True], 5)  # dropped, then reconnected
        assert seen[0] is True and seen.count(True) == 2  # up, down (once or more), up
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
