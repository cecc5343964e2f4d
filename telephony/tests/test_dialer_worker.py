"""The worker's single step on the campaigns module's leads: pacing decides, leads are claimed
once, the attempt row comes first, then the originate into Stasis through the carrier."""

from __future__ import annotations

import pytest

from telephony.asterisk.ari import AriClient
from telephony.dialer.sessions import agent_session_pause
from telephony.dialer.worker import dialer_tick
from telephony.models import AgentSession, DialAttempt, Lead, PauseCode
from telephony.services.asterisk import ari_config_for
from telephony.services.carriers import carrier_create
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc
from telephony.tests.test_dialer_events import Line

pytestmark = pytest.mark.django_db
AT = utc(2026, 6, 1, 16, 0)  # 12:00 in New York


@pytest.fixture
def setup(fake_ari, server, agent, other_agent, agent_phone, other_phone):
    carrier = carrier_create(name="Acme", slug="acme", server=server, host="sip.acme.example",
                             port=5060, transport="transport-udp", auth_mode="ip",
                             codecs="ulaw,alaw", is_active=True, order=0)
    from telephony.realtime.carriers import carrier_object_id

    trunk = carrier_object_id("acme")
    fake_ari.endpoints[("PJSIP", "1002")] = {"technology": "PJSIP", "resource": "1002",
                                             "state": "online", "channel_ids": []}
    fake_ari.endpoints[("PJSIP", trunk)] = {"technology": "PJSIP", "resource": trunk,
                                            "state": "online", "channel_ids": []}
    campaign = running_campaign("Spring", dial_mode="progressive", carrier=carrier,
                                caller_id_number="5550100", agents=[agent, other_agent])
    leads = [lead_for(campaign, f"+1212555{n:04d}") for n in range(5)]
    line = Line(fake_ari, server)
    sessions = []
    from telephony.dialer.sessions import agent_session_start

    for user in (agent, other_agent):
        session = agent_session_start(agent=user, campaign=campaign)
        fake_ari.answer(str(session.pk))
        sessions.append(session)
    line.deliver()
    yield line, campaign, leads, sessions, trunk
    line.client.close()


def tick(line, worker="dialer-1"):
    client = AriClient(ari_config_for(line.server))
    try:
        return dialer_tick(worker=worker, ari_for=lambda server: client, now=AT)
    finally:
        client.close()


def test_it_launches_one_call_per_ready_agent_row_first(setup):
    line, campaign, leads, sessions, trunk = setup
    report = tick(line)
    assert report.launched == 2
    attempts = list(DialAttempt.objects.filter(campaign_id=campaign.pk))
    originates = [r["query"] for r in line.fake.requests
                  if r["method"] == "POST" and r["query"].get("app") and
                  "@" in r["query"]["endpoint"]]
    assert sorted(q["channelId"] for q in originates) == sorted(str(a.pk) for a in attempts)
    assert all(q["endpoint"].endswith(f"@{trunk}") and q["callerId"] == "5550100"
               for q in originates)
    claimed = Lead.objects.filter(state=Lead.State.IN_PROGRESS, claimed_by="dialer-1")
    assert sorted(claimed.values_list("pk", flat=True)) == sorted(a.lead_id for a in attempts)


def test_calls_in_flight_count_and_claimed_leads_are_not_claimed_again(setup):
    line, campaign, leads, sessions, trunk = setup
    tick(line)
    assert tick(line, worker="dialer-2").launched == 0  # both agents have a call ringing
    for attempt in DialAttempt.objects.all():
        line.fake.remote_hangup(str(attempt.pk), cause=19, cause_txt="No answer")
    line.deliver()
    assert tick(line, worker="dialer-2").launched == 2
    lead_ids = list(DialAttempt.objects.values_list("lead_id", flat=True))
    assert len(lead_ids) == len(set(lead_ids)) == 4  # no lead dialled twice
    retried = Lead.objects.filter(state=Lead.State.RETRY)
    assert retried.count() == 2 and all(lead.attempts == 1 for lead in retried)


def test_no_call_starts_while_every_agent_is_paused(setup):
    line, campaign, leads, sessions, trunk = setup
    code = PauseCode.objects.create(code="break", name="Break")
    for session in sessions:
        agent_session_pause(session=AgentSession.objects.get(pk=session.pk), pause_code=code)
    assert tick(line).launched == 0
    assert not DialAttempt.objects.exists()
    assert not Lead.objects.filter(state=Lead.State.IN_PROGRESS).exists()


def test_a_refused_originate_closes_the_attempt_and_counts_the_lead(setup):
    line, campaign, leads, sessions, trunk = setup
    line.fake.endpoints.pop(("PJSIP", trunk))  # Asterisk cannot allocate the trunk
    report = tick(line)
    assert (report.launched, report.failed) == (0, 2)
    assert all(a.status == "failed" and a.closed_at for a in DialAttempt.objects.all())
    assert Lead.objects.filter(state=Lead.State.RETRY, attempts=1).count() == 2


@pytest.mark.django_db(transaction=True)  # the step closes stale connections, as the loop must
def test_run_dialers_launch_step_dials_through_the_carriers_server(setup):
    line, campaign, leads, sessions, trunk = setup
    from telephony.management.commands.run_dialer import dialer_launch

    clients = {}
    try:
        report = dialer_launch(clients, worker="dialer-1", now=AT)
    finally:
        for client in clients.values():
            client.close()
    assert report.launched == 2
    assert list(clients) == [campaign.carrier.server_id]
    assert DialAttempt.objects.filter(campaign_id=campaign.pk).count() == 2


def test_reconcile_tells_the_lead_and_the_agent_how_a_call_unheard_of_ended(setup):
    from datetime import timedelta

    from django.utils import timezone

    from telephony.dialer.reconcile import dialer_reconcile

    line, campaign, leads, sessions, trunk = setup
    tick(line)
    talking, ringing = DialAttempt.objects.order_by("lead_id")
    line.fake.answer(str(talking.pk))
    line.deliver()
    assert AgentSession.objects.filter(state=AgentSession.State.ON_CALL,
                                       attempt_id=talking.pk).exists()
    # Both channels end while no worker listens (it was killed): no events arrive.
    line.fake.channels.pop(str(talking.pk))
    line.fake.channels.pop(str(ringing.pk))
    DialAttempt.objects.filter(pk__in=[talking.pk, ringing.pk]).update(
        created_at=timezone.now() - timedelta(minutes=1))

    result = dialer_reconcile(line.server, line.client)

    assert result.attempts_closed == 2
    talking.refresh_from_db()
    ringing.refresh_from_db()
    assert talking.status == DialAttempt.Status.COMPLETED
    assert ringing.status == DialAttempt.Status.FAILED and ringing.closed_at is not None
    # The leads learn it: the answered one waits for its disposition, the other retries.
    assert Lead.objects.get(pk=talking.lead_id).state == Lead.State.IN_PROGRESS
    retried = Lead.objects.get(pk=ringing.lead_id)
    assert (retried.state, retried.attempts, retried.claimed_by) == (Lead.State.RETRY, 1, "")
    # The agent whose customer is gone is in wrap-up, not "on call" for ever.
    agent = AgentSession.objects.get(pk=next(s.pk for s in sessions
                                             if s.agent_id == talking.agent_id))
    assert agent.state == AgentSession.State.WRAP_UP


def test_leads_a_dead_worker_claimed_but_never_dialled_are_given_back(setup, settings):
    from datetime import timedelta

    from telephony.dialer.worker import leads_claim_locked, leads_unstick

    line, campaign, leads, sessions, trunk = setup
    settings.DIALER_UNSTICK_SECONDS = 60
    tick(line)  # two claimed and dialled (their attempt rows exist)
    # A worker claims two more and dies before writing their attempt rows.
    orphans = leads_claim_locked(campaign=campaign, at=AT, limit=2, claimed_by="dead-worker")
    assert len(orphans) == 2

    assert leads_unstick(now=AT + timedelta(seconds=30)) == 0  # too early: may still dial
    assert leads_unstick(now=AT + timedelta(seconds=61)) == 2

    orphan_ids = [lead.pk for lead in orphans]
    assert set(Lead.objects.filter(pk__in=orphan_ids).values_list("state", "claimed_by")) == \
        {(Lead.State.NEW, "")}
    dialled = Lead.objects.filter(pk__in=DialAttempt.objects.values("lead_id"))
    assert set(dialled.values_list("state", flat=True)) == {Lead.State.IN_PROGRESS}


def test_a_customer_who_answered_while_no_worker_listened_gets_the_safe_harbor_message(setup):
    from datetime import timedelta

    from django.utils import timezone

    from telephony.dialer.events import waiting_expire
    from telephony.dialer.reconcile import dialer_reconcile

    line, campaign, leads, sessions, trunk = setup
    tick(line)
    unheard = DialAttempt.objects.order_by("lead_id").first()
    line.fake.channels[str(unheard.pk)]["state"] = "Up"  # answered; its StasisStart was lost
    DialAttempt.objects.filter(pk=unheard.pk).update(
        created_at=timezone.now() - timedelta(minutes=1))

    result = dialer_reconcile(line.server, line.client)

    assert result.answered_unheard == 1
    unheard.refresh_from_db()
    assert unheard.status == DialAttempt.Status.ANSWERED and unheard.answered_at is not None
    assert waiting_expire(line.server, line.client) == 1  # due at once: past the 2 s grace
    unheard.refresh_from_db()
    assert unheard.status == DialAttempt.Status.ABANDONED and unheard.abandoned


def test_an_agent_past_the_wrap_up_limit_is_made_ready_and_the_attempt_sealed(setup):
    from datetime import timedelta

    from telephony.dialer.sessions import wrapups_expire

    line, campaign, leads, sessions, trunk = setup
    campaign.wrapup_seconds = 30
    campaign.save()
    tick(line)
    talking = DialAttempt.objects.order_by("lead_id").first()
    line.fake.answer(str(talking.pk))
    line.deliver()
    line.fake.remote_hangup(str(talking.pk), cause=16, cause_txt="Normal Clearing")
    line.deliver()
    agent = AgentSession.objects.get(attempt_id=talking.pk)
    assert agent.state == AgentSession.State.WRAP_UP
    since = agent.state_since

    assert wrapups_expire(now=since + timedelta(seconds=29)) == 0  # still writing it up
    assert wrapups_expire(now=since + timedelta(seconds=31)) == 1

    agent.refresh_from_db()
    talking.refresh_from_db()
    assert agent.state == AgentSession.State.READY
    assert talking.closed_at is not None and 30 < talking.wrap_seconds < 32
    campaign.wrapup_seconds = 0  # no limit: nobody is hurried
    campaign.save()
    AgentSession.objects.filter(pk=agent.pk).update(state=AgentSession.State.WRAP_UP)
    assert wrapups_expire(now=since + timedelta(hours=5)) == 0
