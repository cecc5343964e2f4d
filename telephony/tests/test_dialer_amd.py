"""Answering-machine detection through the dialer's event handling, against the ARI fake (whose
frames agree with transcripts/ari_stasis_amd.txt, recorded on a real Asterisk 22): a campaign
with AMD on sends each answered customer to the AMD context first (its hang-up there still
reaches us: a channel we originated stays subscribed); the verdict decides: a person goes to
an agent with the 2-second grace counted from the verdict, a machine is recorded and hung up
or played the campaign's message; NOTSURE follows the campaign's policy; a hang-up during
detection and a restart are honest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.asterisk.confgen import AMD_CONTEXT
from telephony.dialer.events import PREVIEW_WORKER, waiting_expire
from telephony.dialer.reconcile import dialer_reconcile
from telephony.dialer.sessions import agent_session_pause
from telephony.forms.campaigns import CampaignForm
from telephony.models import AgentSession, Campaign, DialAttempt, Lead, LeadList, PauseCode
from telephony.services.ledger_export import ledger_export
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.dialer_helpers import Line, ready_session
from telephony.tests.fakes import wait_until

pytestmark = pytest.mark.django_db
State = AgentSession.State
Status = DialAttempt.Status


@pytest.fixture
def line(fake_ari, server):
    fake_ari.endpoints[("PJSIP", "trunk")] = {"technology": "PJSIP", "resource": "trunk",
                                              "state": "online", "channel_ids": []}
    result = Line(fake_ari, server)
    yield result
    result.client.close()


@pytest.fixture
def campaign():
    return Campaign.objects.create(name="Spring", status=Campaign.Status.RUNNING,
                                   amd_enabled=True)


def customer(line, campaign, number="+15555550101") -> DialAttempt:
    lead_list = LeadList.objects.get_or_create(campaign=campaign, name="L")[0]
    lead = Lead.objects.create(campaign=campaign, lead_list=lead_list, phone_number=number,
                               timezone="UTC", state=Lead.State.IN_PROGRESS, claimed_by="w")
    attempt = DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=lead.pk,
                                         phone_number=number, server_id=line.server.pk,
                                         created_at=timezone.now() - timedelta(seconds=8))
    line.client.originate_to_app(endpoint=f"PJSIP/{number}@trunk", channel_id=str(attempt.pk),
                                 app_args="customer")
    return attempt


def detecting(line, campaign, number="+15555550101") -> DialAttempt:
    attempt = customer(line, campaign, number)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    attempt.refresh_from_db()
    return attempt


def test_an_answer_goes_to_the_amd_context_and_no_agent_is_given_yet(
        line, agent, agent_phone, campaign):
    session = ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)

    assert attempt.status == Status.DETECTING and attempt.answered_at is not None
    go_on = line.fake.requests[-1]
    assert (go_on["method"], go_on["path"], go_on["query"]["context"]) == (
        "POST", f"/ari/channels/{attempt.pk}/continue", AMD_CONTEXT)
    session.refresh_from_db()
    assert session.state == State.READY and session.attempt_id is None
    # While AMD listens the call is not "waiting": the grace sweep leaves it alone.
    assert waiting_expire(line.server, line.client,
                          now=timezone.now() + timedelta(seconds=10)) == 0


def test_without_amd_the_answer_goes_straight_to_the_agent(line, agent, agent_phone, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(amd_enabled=False)
    ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)

    assert attempt.status == Status.CONNECTED and attempt.amd_result == ""
    assert not any(r["path"].endswith("/continue") for r in line.fake.requests)


def test_a_preview_call_is_never_sent_through_amd(line, campaign):
    # Its agent dialled it and is already listening in their bridge.
    attempt = customer(line, campaign)
    DialAttempt.objects.filter(pk=attempt.pk).update(worker=PREVIEW_WORKER)
    line.fake.answer(str(attempt.pk))
    line.deliver()

    attempt.refresh_from_db()
    assert attempt.status == Status.ANSWERED
    assert not any(r["path"].endswith("/continue") for r in line.fake.requests)


def test_a_person_is_given_to_the_ready_agent_with_the_verdict_on_the_row(
        line, agent, agent_phone, campaign):
    session = ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)

    line.fake.amd_verdict(str(attempt.pk), "HUMAN", "HUMAN-800-800")
    line.deliver()

    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.status == Status.CONNECTED and attempt.agent_id == agent.pk
    assert (attempt.amd_result, attempt.amd_cause) == ("HUMAN", "HUMAN-800-800")
    assert attempt.amd_at >= attempt.answered_at
    assert session.state == State.ON_CALL and session.attempt_id == attempt.pk


def test_the_grace_period_counts_from_the_verdict_not_the_answer(line, agent, agent_phone,
                                                                 campaign):
    session = ready_session(line, agent, campaign)
    agent_session_pause(session=session,
                        pause_code=PauseCode.objects.create(code="break", name="Break"))
    attempt = detecting(line, campaign)
    verdict = attempt.answered_at + timedelta(seconds=4)  # AMD listened 4 s

    line.fake.amd_verdict(str(attempt.pk), "HUMAN", "HUMAN-800-800")
    line.deliver(now=verdict)

    assert DialAttempt.objects.get(pk=attempt.pk).status == Status.ANSWERED
    assert waiting_expire(line.server, line.client, now=verdict + timedelta(seconds=1.5)) == 0
    assert waiting_expire(line.server, line.client, now=verdict + timedelta(seconds=2.1)) == 1
    assert DialAttempt.objects.get(pk=attempt.pk).abandoned


def test_a_machine_is_hung_up_recorded_and_never_given_to_an_agent(line, agent, agent_phone,
                                                                   campaign):
    session = ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)

    line.fake.amd_verdict(str(attempt.pk), "MACHINE", "LONGGREETING-1500-1500")
    line.deliver()
    assert (line.fake.requests[-1]["method"], line.fake.requests[-1]["path"]) == (
        "DELETE", f"/ari/channels/{attempt.pk}")
    line.deliver()  # its ChannelDestroyed

    attempt.refresh_from_db()
    assert attempt.status == Status.MACHINE and not attempt.abandoned
    assert (attempt.amd_result, attempt.amd_cause) == ("MACHINE", "LONGGREETING-1500-1500")
    assert attempt.closed_at is not None and attempt.agent_id is None
    lead = Lead.objects.get(pk=attempt.lead_id)
    assert lead.state == Lead.State.RETRY and lead.last_machine_drop_at is not None
    session.refresh_from_db()
    assert session.state == State.READY
    # The audit CSV carries the verdict.
    header, row = (line.strip().split(",") for line in ledger_export(campaign_id=campaign.pk))
    cells = dict(zip(header, row, strict=True))
    assert (cells["status"], cells["amd_result"], cells["amd_cause"]) == (
        "machine", "MACHINE", "LONGGREETING-1500-1500")
    assert cells["amd_at"] == attempt.amd_at.isoformat()


def test_a_machine_hears_the_campaigns_message_then_is_hung_up(line, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        amd_machine_action=Campaign.MachineAction.MESSAGE,
        amd_machine_sound="autodialer/machine-message")
    attempt = detecting(line, campaign)

    line.fake.amd_verdict(str(attempt.pk), "MACHINE", "MAXWORDS-2-2")
    line.deliver()
    wait_until(lambda: any(e["type"] == "PlaybackFinished" for e in line.fake.events_sent))
    line.deliver()  # played: now the hang-up, then its ChannelDestroyed
    line.deliver()

    asked = [(r["method"], r["path"], r["query"].get("media")) for r in line.fake.requests]
    assert asked[-2:] == [("POST", f"/ari/channels/{attempt.pk}/play",
                           "sound:autodialer/machine-message"),
                          ("DELETE", f"/ari/channels/{attempt.pk}", None)]

    attempt.refresh_from_db()
    assert attempt.status == Status.MACHINE and attempt.closed_at is not None


@pytest.mark.parametrize("policy,outcome", [(Campaign.NotSure.HUMAN, Status.CONNECTED),
                                            (Campaign.NotSure.MACHINE, Status.MACHINE)])
def test_notsure_follows_the_campaigns_policy(line, agent, agent_phone, campaign, policy,
                                              outcome):
    Campaign.objects.filter(pk=campaign.pk).update(amd_notsure=policy)
    ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)

    line.fake.amd_verdict(str(attempt.pk), "NOTSURE", "TOOLONG-5000")
    line.deliver()

    attempt.refresh_from_db()
    assert attempt.status == outcome and attempt.amd_result == "NOTSURE"


def test_a_hang_up_during_detection_reaches_us_and_counts_as_abandoned(line, campaign):
    attempt = detecting(line, campaign)

    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()

    attempt.refresh_from_db()
    assert attempt.status == Status.ABANDONED and attempt.abandoned
    assert attempt.closed_at is not None and "detection" in attempt.error


def test_a_verdict_twice_or_late_changes_nothing(line, agent, agent_phone, campaign):
    ready_session(line, agent, campaign)
    attempt = detecting(line, campaign)
    line.fake.amd_verdict(str(attempt.pk), "HUMAN", "HUMAN-800-800")
    line.deliver()
    line.replay_all()

    attempt.refresh_from_db()
    assert attempt.status == Status.CONNECTED and attempt.amd_result == "HUMAN"


def test_after_a_restart_a_call_still_in_detection_is_reconciled(line, campaign):
    lost_verdict = detecting(line, campaign)
    gone = detecting(line, campaign, "+15555550102")
    line.fake.channels.pop(str(gone.pk))  # ended while nobody listened
    long_ago = timezone.now() - timedelta(minutes=1)
    DialAttempt.objects.filter(pk__in=[lost_verdict.pk, gone.pk]).update(
        created_at=long_ago, answered_at=long_ago)

    result = dialer_reconcile(line.server, line.client)

    assert (result.attempts_closed, result.answered_unheard) == (1, 1)
    gone.refresh_from_db()
    assert gone.status == Status.ABANDONED and gone.closed_at is not None
    lost_verdict.refresh_from_db()
    assert lost_verdict.status == Status.ANSWERED and "verdict lost" in lost_verdict.error
    # Past the grace: the next sweep gives it the safe-harbor message.
    assert waiting_expire(line.server, line.client) == 1


def test_a_machine_message_needs_a_valid_sound_name(agent):
    base = {"name": "AMD", "dial_mode": "progressive", "default_timezone": "UTC",
            "ring_timeout": 20, "max_attempts": 3, "max_attempts_per_day": 1,
            "retry_no_answer_minutes": 60, "retry_busy_minutes": 15,
            "retry_congestion_minutes": 10, "retry_machine_minutes": 240,
            "retry_dropped_minutes": 60, "abandon_target_percent": "3",
            "abandon_window": "30d", "wrapup_seconds": 60, "amd_enabled": "on",
            "amd_notsure": "human", "amd_machine_action": "message"}
    assert "amd_machine_sound" in CampaignForm(data=base).errors
    for bad in ("../../etc/passwd", "/var/lib/x", "msg.wav", "a,b", "x y"):
        form = CampaignForm(data={**base, "amd_machine_sound": bad})
        assert "amd_machine_sound" in form.errors, bad
    form = CampaignForm(data={**base, "amd_machine_sound": "autodialer/machine-message"})
    assert form.is_valid(), form.errors
    hang_up = CampaignForm(data={**base, "amd_machine_action": "hangup"})
    assert hang_up.is_valid(), hang_up.errors


def test_a_machine_whose_message_was_playing_keeps_its_outcome_after_a_restart(line,
                                                                              campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        amd_machine_action=Campaign.MachineAction.MESSAGE, amd_machine_sound="vm-goodbye")
    line.fake.playback_seconds = 5  # still playing when the worker stops
    attempt = detecting(line, campaign)
    line.fake.amd_verdict(str(attempt.pk), "MACHINE", "MAXWORDS-2-2")
    line.deliver()
    line.fake.channels.pop(str(attempt.pk))  # ended while nobody listened
    DialAttempt.objects.filter(pk=attempt.pk).update(
        created_at=timezone.now() - timedelta(minutes=1))

    assert dialer_reconcile(line.server, line.client).attempts_closed == 1

    attempt.refresh_from_db()
    assert attempt.status == Status.MACHINE and attempt.closed_at is not None
    assert Lead.objects.get(pk=attempt.lead_id).last_outcome == "machine"
