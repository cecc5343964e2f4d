"""Agent sessions and customers through the dialer's ARI event handling, against the ARI fake:
the agent's phone parked in its own bridge, a customer given to the longest-idle ready agent,
the 2-second grace and the safe-harbor hang-up, outcomes, and events replayed twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.dialer.events import waiting_expire
from telephony.dialer.sessions import (
    SessionError,
    agent_session_pause,
    agent_session_ready,
    agent_session_start,
)
from telephony.models import AgentSession, Campaign, DialAttempt, PauseCode, Phone
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.dialer_helpers import Line, ready_session
from telephony.tests.fakes import wait_until

pytestmark = pytest.mark.django_db
State = AgentSession.State
Status = DialAttempt.Status


@pytest.fixture
def line(fake_ari, server):
    fake_ari.endpoints[("PJSIP", "1002")] = {"technology": "PJSIP", "resource": "1002",
                                             "state": "online", "channel_ids": []}
    fake_ari.endpoints[("PJSIP", "trunk")] = {"technology": "PJSIP", "resource": "trunk",
                                              "state": "online", "channel_ids": []}
    result = Line(fake_ari, server)
    yield result
    result.client.close()


@pytest.fixture
def campaign():
    # Running, where campaigns have statuses (the campaigns module); any campaign before it.
    running = {"status": "running"} if hasattr(Campaign, "Status") else {}
    return Campaign.objects.create(name="Spring", **running)


def customer(line, campaign, number="+15555550101") -> DialAttempt:
    attempt = DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=1,
                                         phone_number=number, server_id=line.server.pk,
                                         created_at=timezone.now() - timedelta(seconds=8))
    line.client.originate_to_app(endpoint=f"PJSIP/{number}@trunk", channel_id=str(attempt.pk))
    return attempt


def test_starting_a_session_calls_the_agents_phone_into_stasis(line, agent, agent_phone,
                                                               campaign):
    session = agent_session_start(agent=agent, campaign=campaign)
    query = line.fake.requests[-1]["query"]
    assert (query["endpoint"], query["app"], query["channelId"]) == (
        "PJSIP/1001", "autodialer", str(session.pk))
    assert session.state == State.LOGGED_OUT and session.is_live
    with pytest.raises(SessionError):
        agent_session_start(agent=agent, campaign=campaign)
    assert len([r for r in line.fake.requests if r["method"] == "POST"]) == 1


def test_an_agent_without_a_phone_cannot_start(line, agent, campaign):
    with pytest.raises(SessionError, match="no active phone"):
        agent_session_start(agent=agent, campaign=campaign)
    assert not AgentSession.objects.exists()


def test_a_phone_asterisk_cannot_call_ends_the_session_with_the_reason(line, agent, server,
                                                                       campaign):
    Phone.objects.create(extension="1009", name="Nowhere", server=server, user=agent)
    with pytest.raises(SessionError, match="could not be called"):
        agent_session_start(agent=agent, campaign=campaign)
    session = AgentSession.objects.get()
    assert not session.is_live and "phone not called" in session.end_reason


def test_the_answered_phone_waits_ready_in_its_own_bridge(line, agent, agent_phone, campaign):
    session = ready_session(line, agent, campaign)
    assert session.state == State.READY and session.idle_since is not None
    assert line.fake.bridges[session.bridge_id]["channels"] == [str(session.pk)]
    assert [c.to_state for c in session.state_changes.all()] == ["logged_out", "ready"]


def test_a_customer_who_answers_joins_the_longest_idle_agent(line, agent, other_agent,
                                                             agent_phone, other_phone,
                                                             campaign):
    first = ready_session(line, agent, campaign)
    second = ready_session(line, other_agent, campaign)
    attempt = customer(line, campaign)
    line.fake.ring(str(attempt.pk))
    line.deliver()
    assert DialAttempt.objects.get(pk=attempt.pk).status == Status.RINGING
    line.fake.answer(str(attempt.pk))
    line.deliver()
    attempt.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert attempt.status == Status.CONNECTED and attempt.agent_id == agent.pk
    assert attempt.ring_seconds >= 8 and attempt.connected_at >= attempt.answered_at
    assert (first.state, first.attempt_id) == (State.ON_CALL, attempt.pk)
    assert second.state == State.READY
    assert line.fake.bridges[first.bridge_id]["channels"] == [str(first.pk), str(attempt.pk)]


def test_the_customer_hanging_up_completes_the_attempt_and_starts_wrap_up(line, agent,
                                                                         agent_phone,
                                                                         campaign):
    session = ready_session(line, agent, campaign)
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()
    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.status == Status.COMPLETED and attempt.hangup_cause == 16
    assert attempt.closed_at is None  # open for the agent's disposition
    assert session.state == State.WRAP_UP
    agent_session_ready(session=session)
    session.refresh_from_db()
    attempt.refresh_from_db()
    assert session.state == State.READY and session.attempt_id is None
    assert attempt.closed_at is not None and attempt.wrap_seconds >= 0  # sealed after wrap-up
    assert attempt.talk_seconds >= 0


def test_with_no_agent_free_the_customer_waits_the_grace_then_hears_safe_harbor(line, agent,
                                                                               agent_phone,
                                                                               campaign):
    session = ready_session(line, agent, campaign)
    agent_session_pause(session=session, pause_code=PauseCode.objects.create(
        code="break", name="Break"))
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    answered = timezone.now()
    line.deliver(now=answered)
    assert DialAttempt.objects.get(pk=attempt.pk).status == Status.ANSWERED
    assert waiting_expire(line.server, line.client, now=answered + timedelta(seconds=1.5)) == 0
    assert waiting_expire(line.server, line.client, now=answered + timedelta(seconds=2.1)) == 1
    assert (line.fake.requests[-1]["method"], line.fake.requests[-1]["path"]) == (
        "POST", f"/ari/channels/{attempt.pk}/play")
    wait_until(lambda: any(e["type"] == "PlaybackFinished" for e in line.fake.events_sent))
    line.deliver()  # the message has played: now the hang-up
    assert (line.fake.requests[-1]["method"], line.fake.requests[-1]["path"]) == (
        "DELETE", f"/ari/channels/{attempt.pk}")
    line.deliver()
    attempt.refresh_from_db()
    assert attempt.status == Status.ABANDONED and attempt.abandoned
    assert attempt.closed_at is not None and attempt.agent_id is None


def test_the_abandoned_customer_hears_the_campaigns_own_message(line, agent, agent_phone,
                                                                campaign):
    # The message uploaded on the campaign's form, not Asterisk's stock goodbye.
    Campaign.objects.filter(pk=campaign.pk).update(
        safe_harbor_sound=f"autodialer/campaign-{campaign.pk}")
    other = Campaign.objects.create(name="Autumn", status="running")
    attempts = [customer(line, campaign), customer(line, other, number="+15555550102")]
    answered = timezone.now()
    for attempt in attempts:
        line.fake.answer(str(attempt.pk))
    line.deliver(now=answered)

    assert waiting_expire(line.server, line.client, now=answered + timedelta(seconds=2.1)) == 2

    played = {r["path"].split("/")[3]: r["query"].get("media") for r in line.fake.requests
              if r["method"] == "POST" and r["path"].endswith("/play")}
    assert played == {str(attempts[0].pk): f"sound:autodialer/campaign-{campaign.pk}",
                      str(attempts[1].pk): "sound:vm-goodbye"}


def test_an_agent_ready_within_the_grace_gets_the_waiting_customer(line, agent, agent_phone,
                                                                  campaign):
    session = ready_session(line, agent, campaign)
    agent_session_pause(session=session, pause_code=PauseCode.objects.create(
        code="break", name="Break"))
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    agent_session_ready(session=session)
    from telephony.dialer.events import waiting_assign

    waiting_assign(line.server, line.client)
    attempt.refresh_from_db()
    assert attempt.status == Status.CONNECTED and not attempt.abandoned


@pytest.mark.parametrize("cause,text,outcome", [(17, "User busy", Status.BUSY),
                                                (19, "No answer", Status.NO_ANSWER),
                                                (21, "Call Rejected", Status.FAILED)])
def test_an_unanswered_call_ends_sealed_with_its_outcome(line, campaign, cause, text, outcome):
    attempt = customer(line, campaign)
    line.fake.remote_hangup(str(attempt.pk), cause=cause, cause_txt=text)
    line.deliver()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.hangup_cause) == (outcome, cause)
    assert attempt.closed_at is not None and attempt.ring_seconds >= 8


def test_events_replayed_change_nothing(line, agent, agent_phone, campaign):
    session = ready_session(line, agent, campaign)
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()
    before = DialAttempt.objects.get(pk=attempt.pk)
    changes = session.state_changes.count()
    line.replay_all()
    after = DialAttempt.objects.get(pk=attempt.pk)
    assert (after.status, after.ended_at, after.connected_at) == (
        before.status, before.ended_at, before.connected_at)
    assert session.state_changes.count() == changes


def test_the_agent_hanging_up_ends_the_session_and_the_customer_with_them(line, agent,
                                                                         agent_phone,
                                                                         campaign):
    session = ready_session(line, agent, campaign)
    attempt = customer(line, campaign)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    line.fake.remote_hangup(str(session.pk))
    line.deliver()
    session.refresh_from_db()
    attempt.refresh_from_db()
    assert session.state == State.LOGGED_OUT and not session.is_live
    assert session.live_agent_id is None and session.bridge_id not in line.fake.bridges
    assert attempt.status == Status.COMPLETED  # the customer leg was hung up
    agent_session_start(agent=agent, campaign=campaign)  # and the agent may start again


def test_the_pacing_state_counts_agents_calls_and_outcomes_from_the_rows(
        line, agent, other_agent, agent_phone, other_phone, campaign,
        django_assert_max_num_queries):
    from telephony.dialer.state import pacing_state_for

    ready_session(line, agent, campaign)
    busy = ready_session(line, other_agent, campaign)
    talking = customer(line, campaign)
    line.fake.answer(str(talking.pk))
    line.deliver()
    ringing = customer(line, campaign, "+15555550102")
    busy_line = customer(line, campaign, "+15555550103")
    line.fake.remote_hangup(str(busy_line.pk), cause=17, cause_txt="User busy")
    line.deliver()
    with django_assert_max_num_queries(5):
        state = pacing_state_for(campaign)
    busy.refresh_from_db()
    assert (state.agents_total, state.agents_ready, state.agents_on_call) == (2, 1, 1)
    assert (state.calls_ringing, state.calls_waiting) == (1, 0)
    assert len(state.ring_elapsed) == 1 and state.ring_elapsed[0] >= 8
    window = state.last_5min
    assert (window.dialed, window.answered, window.connects, window.abandons) == (2, 1, 1, 0)
    assert window.answer_rate == 0.5 and window.ring_mean >= 8
    assert state.abandon_target == 0.03 and ringing.pk


def test_reconcile_closes_what_asterisk_no_longer_has_and_keeps_the_rest(line, agent,
                                                                        agent_phone, campaign):
    from telephony.dialer.reconcile import dialer_reconcile

    session = ready_session(line, agent, campaign)
    live = customer(line, campaign)
    never_dialled = DialAttempt.objects.create(
        campaign_id=campaign.pk, lead_id=2, phone_number="+15555550104",
        server_id=line.server.pk, created_at=timezone.now() - timedelta(seconds=30))
    lost = customer(line, campaign, "+15555550105")
    line.fake.answer(str(lost.pk))
    line.deliver()
    line.fake.channels.pop(str(lost.pk))  # it ended while nobody listened
    DialAttempt.objects.filter(pk__in=[lost.pk, live.pk]).update(
        created_at=timezone.now() - timedelta(minutes=1))
    AgentSession.objects.filter(pk=session.pk).update(
        started_at=timezone.now() - timedelta(minutes=5))
    result = dialer_reconcile(line.server, line.client)
    assert (result.attempts_closed, result.sessions_ended) == (2, 0)
    never_dialled.refresh_from_db()
    lost.refresh_from_db()
    live.refresh_from_db()
    assert never_dialled.status == Status.FAILED and never_dialled.closed_at is not None
    assert "restarted" in never_dialled.error
    assert lost.status == Status.COMPLETED and lost.ended_at is not None  # was connected
    assert live.is_live and live.closed_at is None
    line.fake.channels.pop(str(session.pk))
    assert dialer_reconcile(line.server, line.client).sessions_ended == 1


def test_supervisors_see_the_campaigns_live_numbers(line, agent, agent_phone, campaign,
                                                    supervisor, client):
    from django.urls import reverse

    session = ready_session(line, agent, campaign)
    agent_session_pause(session=session, pause_code=PauseCode.objects.create(
        code="lunch", name="Lunch"))
    waiting = customer(line, campaign)
    line.fake.answer(str(waiting.pk))
    line.deliver()
    customer(line, campaign, "+15555550106")
    client.force_login(supervisor)
    response = client.get(reverse("telephony:campaign_dialer_live", args=[campaign.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-agents="Paused">1<' in page and 'data-agents="Ready">0<' in page
    assert 'id="calls-ringing">1<' in page and 'id="calls-waiting">1<' in page


def test_agents_and_outsiders_may_not_see_the_live_numbers(client, agent, outsider, campaign):
    from django.urls import reverse

    url = reverse("telephony:campaign_dialer_live", args=[campaign.pk])
    for user in (agent, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_an_agent_starts_pauses_readies_and_ends_a_session_from_the_page(
        line, agent, agent_phone, campaign, client):
    from django.urls import reverse

    PauseCode.objects.create(code="lunch", name="Lunch")
    client.force_login(agent)
    assert "Start a session" in client.get(reverse("telephony:agent_dialer")).content.decode()
    client.post(reverse("telephony:agent_dialer_start"),
                {"campaign": campaign.pk})
    session = AgentSession.objects.get(agent=agent)
    line.fake.answer(str(session.pk))
    line.deliver()
    code = PauseCode.objects.get().pk
    client.post(reverse("telephony:agent_dialer_pause"), {"pause_code": code})
    session.refresh_from_db()
    assert session.state == State.PAUSED and session.pause_code.code == "lunch"
    client.post(reverse("telephony:agent_dialer_ready"))
    session.refresh_from_db()
    assert session.state == State.READY
    page = client.get(reverse("telephony:agent_dialer")).content.decode()
    assert 'id="session-state">Ready<' in page
    client.post(reverse("telephony:agent_dialer_stop"))
    line.deliver()
    session.refresh_from_db()
    assert not session.is_live


def test_only_agents_use_the_session_page_and_only_by_post(client, supervisor, agent):
    from django.urls import reverse

    client.force_login(supervisor)
    assert client.get(reverse("telephony:agent_dialer")).status_code == 403
    assert client.post(reverse("telephony:agent_dialer_start")).status_code == 403
    client.force_login(agent)
    assert client.get(reverse("telephony:agent_dialer_stop")).status_code == 405
    response = client.post(reverse("telephony:agent_dialer_ready"),
                           follow=True)
    assert "not in a session" in response.content.decode()
