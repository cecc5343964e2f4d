"""Preview mode against the ARI fake: a ready agent gets one lead reserved (never the same as
another agent), sees it, dials it into their own bridge (attempt row first, our UUID as channel
id) or skips it with a reason; the reservation expires; the worker launches nothing itself."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from telephony.asterisk.ari import AriClient
from telephony.dialer.preview import (
    preview_claim_name,
    preview_dial,
    preview_reserve,
    preview_reserved,
    preview_skip,
    previews_expire,
    previews_reserve,
)
from telephony.dialer.screen import session_screen
from telephony.dialer.sessions import SessionError
from telephony.dialer.worker import carrier_endpoint, dialer_tick, leads_unstick
from telephony.models import AgentSession, CallingRules, DialAttempt, Lead, PreviewSkip
from telephony.realtime.carriers import carrier_object_id
from telephony.services.asterisk import ari_config_for
from telephony.services.carriers import carrier_create
from telephony.services.dialer_wrapup import attempt_disposition_record
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc
from telephony.tests.dialer_helpers import Line, ready_session

pytestmark = pytest.mark.django_db
State = AgentSession.State
Status = DialAttempt.Status
AT = utc(2026, 6, 1, 16, 0)  # 12:00 in New York


@pytest.fixture
def floor(fake_ari, server, agent, other_agent, agent_phone, other_phone):
    carrier = carrier_create(name="Acme", slug="acme", server=server, host="sip.acme.example",
                             port=5060, transport="transport-udp", auth_mode="ip",
                             codecs="ulaw,alaw", is_active=True, order=0)
    trunk = carrier_object_id("acme")
    for resource in ("1002", trunk):
        fake_ari.endpoints[("PJSIP", resource)] = {"technology": "PJSIP", "resource": resource,
                                                   "state": "online", "channel_ids": []}
    rules = CallingRules.objects.create(name="Always", weekdays="1234567",
                                        start_time=datetime.time(0, 0),
                                        end_time=datetime.time(23, 59, 59))
    campaign = running_campaign("Preview", dial_mode="preview", carrier=carrier,
                                calling_rules=rules, caller_id_number="5550100",
                                agents=[agent, other_agent])
    leads = [lead_for(campaign, f"+1212555{n:04d}", first_name=f"Lead {n}",
                      data={"Plan": f"p{n}"}) for n in range(3)]
    line = Line(fake_ari, server)
    yield line, campaign, leads, trunk
    line.client.close()


def test_a_ready_agent_sees_one_reserved_lead_and_two_agents_never_share_one(
        floor, agent, other_agent):
    line, campaign, leads, _trunk = floor
    first = ready_session(line, agent, campaign)
    second = ready_session(line, other_agent, campaign)
    assert previews_reserve(now=AT) == 2
    assert previews_reserve(now=AT) == 0  # each keeps the one they have
    mine, theirs = preview_reserved(first), preview_reserved(second)
    assert mine and theirs and mine.pk != theirs.pk
    assert mine.claimed_by == preview_claim_name(first) and mine.state == Lead.State.IN_PROGRESS
    preview = session_screen(agent)["preview"]["lead"]
    assert (preview["id"], preview["name"], preview["data"]) == (mine.pk, mine.first_name,
                                                                 mine.data)
    assert session_screen(agent)["customer"] is None


def test_the_worker_launches_no_call_for_a_preview_campaign(floor, agent):
    line, campaign, _leads, _trunk = floor
    ready_session(line, agent, campaign)
    before = len(line.fake.requests)
    client = AriClient(ari_config_for(line.server))
    try:
        report = dialer_tick(worker="dialer-1", ari_for=lambda server: client, now=AT)
    finally:
        client.close()
    assert report.launched == 0 and not DialAttempt.objects.exists()
    assert len(line.fake.requests) == before
    assert not Lead.objects.filter(claimed_by="dialer-1").exists()


def test_dial_writes_the_row_first_reserves_the_agent_and_bridges_the_answer_to_them(
        floor, agent, other_agent):
    line, campaign, leads, trunk = floor
    session = ready_session(line, agent, campaign)
    other = ready_session(line, other_agent, campaign)  # idle longer: must not get the call
    AgentSession.objects.filter(pk=other.pk).update(idle_since=AT - datetime.timedelta(hours=1))
    lead = preview_reserve(session, now=AT)
    attempt = preview_dial(session=session, ari=line.client, now=AT)
    query = line.fake.requests[-1]["query"]
    assert (query["channelId"], query["endpoint"], query["app"]) == (
        str(attempt.pk), carrier_endpoint(campaign.carrier, lead.phone_number), "autodialer")
    assert query["endpoint"].endswith(f"@{trunk}")
    assert (attempt.worker, attempt.lead_id, attempt.agent_id) == ("preview", lead.pk, agent.pk)
    session.refresh_from_db()
    assert (session.state, session.attempt_id) == (State.RESERVED, attempt.pk)
    assert session_screen(agent)["customer"]["attempt_id"] == str(attempt.pk)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    attempt.refresh_from_db()
    session.refresh_from_db()
    assert (attempt.status, attempt.agent_id, attempt.abandoned) == (Status.CONNECTED,
                                                                      agent.pk, False)
    assert session.state == State.ON_CALL
    assert line.fake.bridges[session.bridge_id]["channels"] == [str(session.pk), str(attempt.pk)]
    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()
    session.refresh_from_db()
    assert session.state == State.WRAP_UP
    attempt_disposition_record(user=agent, attempt_id=attempt.pk,
                               disposition_id=_disposition(campaign).pk)
    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.disposition == "Sale" and attempt.closed_at is not None
    assert session.state == State.READY
    following = preview_reserved(session)  # the next lead, on screen at once
    assert following is not None and following.pk != lead.pk


def test_a_preview_call_left_without_a_disposition_records_nodispo_and_retries_the_lead(
        floor, agent, agent_client):
    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    lead = preview_reserve(session, now=AT)
    attempt = preview_dial(session=session, ari=line.client, now=AT)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    line.fake.remote_hangup(str(attempt.pk))
    line.deliver()
    session.refresh_from_db()
    assert session.state == State.WRAP_UP

    assert agent_client.post(reverse("telephony:agent_dialer_ready")).status_code == 302

    attempt.refresh_from_db()
    assert (attempt.disposition, attempt.closed_at is not None) == ("NODISPO", True)
    lead.refresh_from_db()
    assert (lead.state, lead.claimed_by) == (Lead.State.RETRY, "")
    assert lead.next_eligible_at == attempt.closed_at + datetime.timedelta(
        minutes=campaign.retry_no_answer_minutes)
    session.refresh_from_db()
    assert session.state == State.READY


def _disposition(campaign):
    from telephony.models import Disposition

    return Disposition.objects.create(campaign=campaign, name="Sale", policy="final")


def test_a_preview_call_that_is_not_answered_brings_the_agent_back_to_ready(floor, agent):
    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    lead = preview_reserve(session, now=AT)
    attempt = preview_dial(session=session, ari=line.client, now=AT)
    line.fake.remote_hangup(str(attempt.pk), cause=17, cause_txt="User busy")
    line.deliver()
    attempt.refresh_from_db()
    session.refresh_from_db()
    lead.refresh_from_db()
    assert attempt.status == Status.BUSY and attempt.closed_at is not None
    assert (session.state, session.attempt_id) == (State.READY, None)
    assert lead.state == Lead.State.RETRY and lead.claimed_by == ""


def test_skip_gives_the_lead_back_with_the_reason_and_shows_the_next(floor, agent):
    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    shown = preview_reserve(session, now=AT)
    with pytest.raises(SessionError):
        preview_skip(session=session, reason="  ", now=AT)
    following = preview_skip(session=session, reason="Spoke to them yesterday", now=AT)
    skip = PreviewSkip.objects.get()
    assert (skip.lead_id, skip.agent_username, skip.reason) == (shown.pk, "bob",
                                                                "Spoke to them yesterday")
    shown.refresh_from_db()
    assert (shown.state, shown.claimed_by, shown.attempts) == (Lead.State.NEW, "", 0)
    assert shown.next_eligible_at > AT  # not shown again at once
    assert following is not None and following.pk != shown.pk
    assert not DialAttempt.objects.exists()  # a skip is not a call


def test_a_reservation_expires_and_so_does_one_whose_session_ended(floor, agent, settings):
    line, campaign, _leads, _trunk = floor
    settings.DIALER_PREVIEW_SECONDS = 60
    session = ready_session(line, agent, campaign)
    lead = preview_reserve(session, now=AT)
    assert previews_expire(now=AT + datetime.timedelta(seconds=30)) == 0
    # Not the dead-worker rule: an agent may look at a lead longer than DIALER_UNSTICK_SECONDS.
    assert leads_unstick(now=AT + datetime.timedelta(seconds=500)) == 0
    assert previews_expire(now=AT + datetime.timedelta(seconds=61)) == 1
    lead.refresh_from_db()
    assert (lead.state, lead.claimed_by) == (Lead.State.NEW, "")
    again = preview_reserve(session, now=AT)
    AgentSession.objects.filter(pk=session.pk).update(ended_at=AT, live_agent_id=None)
    assert previews_expire(now=AT) == 1
    again.refresh_from_db()
    assert again.claimed_by == ""


def test_a_lead_being_dialled_is_not_given_back(floor, agent, settings):
    line, campaign, _leads, _trunk = floor
    settings.DIALER_PREVIEW_SECONDS = 60
    session = ready_session(line, agent, campaign)
    preview_reserve(session, now=AT)
    attempt = preview_dial(session=session, ari=line.client, now=AT)
    assert previews_expire(now=AT + datetime.timedelta(seconds=600)) == 0
    assert Lead.objects.get(pk=attempt.lead_id).claimed_by == preview_claim_name(session)


def test_dial_and_skip_only_with_a_lead_on_screen(floor, agent):
    line, campaign, leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    with pytest.raises(SessionError, match="no lead"):
        preview_dial(session=session, ari=line.client, now=AT)
    with pytest.raises(SessionError, match="no lead"):
        preview_skip(session=session, reason="x", now=AT)
    assert not DialAttempt.objects.exists()


def test_the_agent_dials_and_skips_from_the_page(floor, agent, agent_client):
    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    shown = preview_reserve(session)
    page = agent_client.get(reverse("telephony:agent_dialer")).content.decode()
    assert 'id="preview-actions"' in page and ">Dial<" in page
    response = agent_client.post(reverse("telephony:agent_dialer_skip"), {"reason": "Wrong"})
    assert response.status_code == 302
    assert PreviewSkip.objects.get().lead_id == shown.pk
    agent_client.post(reverse("telephony:agent_dialer_dial"))
    attempt = DialAttempt.objects.get()
    assert attempt.lead_id == preview_reserved(session).pk and attempt.worker == "preview"
    assert AgentSession.objects.get(pk=session.pk).state == State.RESERVED


def test_another_agent_cannot_dial_or_skip_my_lead(floor, agent, other_agent, client):
    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    mine = preview_reserve(session)
    client.force_login(other_agent)  # no session of their own
    client.post(reverse("telephony:agent_dialer_dial"))
    client.post(reverse("telephony:agent_dialer_skip"), {"reason": "mine now"})
    assert not DialAttempt.objects.exists() and not PreviewSkip.objects.exists()
    mine.refresh_from_db()
    assert mine.claimed_by == preview_claim_name(session)


def test_the_ledger_export_says_which_calls_an_agent_dialled_from_a_preview(floor, agent):
    from telephony.services.ledger_export import ledger_export

    line, campaign, _leads, _trunk = floor
    session = ready_session(line, agent, campaign)
    preview_reserve(session, now=AT)
    attempt = preview_dial(session=session, ari=line.client, now=AT)
    lines = list(ledger_export(campaign_id=campaign.pk))
    header = lines[0].strip().split(",")
    row = dict(zip(header, lines[1].strip().split(","), strict=True))
    assert (row["attempt_id"], row["launched_by"], row["abandoned"]) == (
        str(attempt.pk), "preview", "no")



def test_the_workers_step_gives_back_a_gone_agents_lead_and_reserves_for_ready_agents(
        floor, agent, other_agent):
    # What run_dialer's `previews` step runs each tick (around it only the connection care).
    line, campaign, _leads, _trunk = floor
    gone = ready_session(line, agent, campaign)
    stale = preview_reserve(gone, now=AT)
    line.fake.remote_hangup(str(gone.pk))  # Bob's phone hangs up: his session ends
    line.deliver()
    carol = ready_session(line, other_agent, campaign)
    assert previews_expire(now=AT) == 1
    stale.refresh_from_db()
    assert (stale.state, stale.claimed_by) == (Lead.State.NEW, "")
    assert previews_reserve(now=AT) == 1  # Carol only: Bob's session has ended
    assert preview_reserved(carol) is not None
    assert not Lead.objects.filter(claimed_by=preview_claim_name(gone)).exists()
