"""Dispositions and callbacks: each policy applied to the call's lead, the agent's API, and
both sides of its permissions."""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from telephony.calling.rules import Reason, lead_callable
from telephony.models import Call, Callback, Disposition, DncEntry, Lead
from telephony.services.campaigns import dispositions_create_defaults
from telephony.services.dispositions import callbacks_due, disposition_save
from telephony.tests.campaign_helpers import lead_for, running_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(agent):
    campaign = running_campaign("Spring", agents=[agent])
    dispositions_create_defaults(campaign=campaign)
    return campaign


def ended_call(agent, campaign, lead=None, **fields) -> Call:
    return Call.objects.create(user=agent, campaign=campaign, lead=lead,
                               number=lead.phone_number if lead else "+12125550100",
                               status=Call.Status.COMPLETED, ended_at=timezone.now(), **fields)


def dispose(client, call, name: str, **extra):
    disposition = Disposition.objects.get(campaign=call.campaign, name=name)
    return client.post(reverse("telephony:call_disposition", args=[call.pk]),
                       json.dumps({"disposition_id": disposition.pk, **extra}),
                       content_type="application/json")


def test_a_final_disposition_ends_the_lead_and_keeps_the_notes(agent_client, agent, campaign):
    lead = lead_for(campaign, state=Lead.State.IN_PROGRESS)
    call = ended_call(agent, campaign, lead)

    response = dispose(agent_client, call, "Sale", notes="Two boxes")

    assert response.status_code == 201
    lead.refresh_from_db()
    assert (lead.state, lead.disposition.name) == (Lead.State.FINAL, "Sale")
    assert call.disposition_record.notes == "Two boxes"
    assert dispose(agent_client, call, "Sale").status_code == 400  # once per call


def test_do_not_call_adds_the_number_to_the_campaigns_list_at_once(agent_client, agent,
                                                                   campaign):
    lead = lead_for(campaign, state=Lead.State.IN_PROGRESS)
    call = ended_call(agent, campaign, lead)

    dispose(agent_client, call, "Do not call")

    entry = DncEntry.objects.get()
    assert (entry.number, entry.campaign, entry.source, entry.added_by) == \
        ("+12125550100", campaign, "disposition", agent)
    lead.refresh_from_db()
    assert lead.state == Lead.State.DNC


def test_do_not_call_works_for_a_manual_call_without_a_lead(agent_client, agent, campaign):
    dispose(agent_client, ended_call(agent, campaign), "Do not call")
    assert DncEntry.objects.filter(number="+12125550100", campaign=campaign).exists()


def test_a_retry_disposition_makes_the_lead_eligible_after_its_delay(agent_client, agent,
                                                                     campaign):
    lead = lead_for(campaign, state=Lead.State.IN_PROGRESS, attempts=1)
    before = timezone.now()

    dispose(agent_client, ended_call(agent, campaign, lead), "No answer")

    lead.refresh_from_db()
    assert lead.state == Lead.State.RETRY
    assert before + datetime.timedelta(minutes=119) < lead.next_eligible_at < \
        timezone.now() + datetime.timedelta(minutes=121)


def test_a_callback_is_scheduled_in_the_leads_local_time(agent_client, agent, campaign):
    lead = lead_for(campaign, "+13105550100", timezone="America/Los_Angeles",
                    state=Lead.State.IN_PROGRESS)
    local = (timezone.now() + datetime.timedelta(days=2)).replace(
        hour=10, minute=30, second=0, microsecond=0, tzinfo=None)

    response = dispose(agent_client, ended_call(agent, campaign, lead), "Call back",
                       callback_at=local.isoformat(), notes="After lunch")

    assert response.status_code == 201
    callback = Callback.objects.get()
    assert callback.scheduled_at.astimezone(ZoneInfo("America/Los_Angeles")).time() == \
        datetime.time(10, 30)
    assert callback.agent == agent and callback.note == "After lunch"
    lead.refresh_from_db()
    assert (lead.state, lead.next_eligible_at) == (Lead.State.CALLBACK, callback.scheduled_at)
    assert lead_callable(lead, callback.scheduled_at - datetime.timedelta(minutes=1))[1] == \
        Reason.CALLBACK
    assert lead_callable(lead, callback.scheduled_at) == (True, Reason.DIALABLE)


def test_a_callback_for_anyone_shows_to_every_agent_of_the_campaign(agent_client, agent,
                                                                    other_agent, campaign):
    campaign.agents.add(other_agent)
    lead = lead_for(campaign, state=Lead.State.IN_PROGRESS)
    soon = (timezone.now() + datetime.timedelta(minutes=30)).astimezone(
        ZoneInfo("America/New_York")).replace(tzinfo=None)

    dispose(agent_client, ended_call(agent, campaign, lead), "Call back",
            callback_at=soon.isoformat(timespec="minutes"), callback_for="anyone")

    assert [c.lead for c in callbacks_due(user=other_agent)] == [lead]
    assert [c.lead for c in callbacks_due(user=agent)] == [lead]
    listed = agent_client.get(reverse("telephony:agent_callbacks")).json()["callbacks"]
    assert [item["number"] for item in listed] == ["+12125550100"]


@pytest.mark.parametrize("callback_at, message", [
    (None, "date and time"), ("2020-01-01T10:00", "future"), ("tomorrow", "date and time"),
    ("2026-03-08T02:30", "does not exist"),
])
def test_a_bad_callback_time_is_refused_and_nothing_changes(callback_at, message,
                                                            agent_client, agent, campaign):
    lead = lead_for(campaign, "+13105550100", timezone="America/Los_Angeles",
                    state=Lead.State.IN_PROGRESS)
    call = ended_call(agent, campaign, lead)
    if callback_at == "2026-03-08T02:30" and timezone.now().date() > datetime.date(2026, 3, 8):
        callback_at = "2027-03-14T02:30"  # the next spring-forward gap in Los Angeles

    response = dispose(agent_client, call, "Call back",
                       **({"callback_at": callback_at} if callback_at else {}))

    assert response.status_code == 400 and message in response.json()["error"]
    lead.refresh_from_db()
    assert lead.state == Lead.State.IN_PROGRESS and not Callback.objects.exists()


def test_an_agent_cannot_dispose_another_agents_call_or_a_live_one(agent_client, agent,
                                                                   other_agent, campaign):
    theirs = ended_call(other_agent, campaign)
    live = Call.objects.create(user=agent, campaign=campaign, number="+12125550101",
                               status=Call.Status.ANSWERED)

    assert dispose(agent_client, theirs, "Sale").status_code == 404
    assert dispose(agent_client, live, "Sale").status_code == 400
    assert not theirs.__class__.objects.filter(disposition_record__isnull=False).exists()


def test_a_supervisor_cannot_use_the_agents_disposition_api(supervisor_client, agent,
                                                            campaign):
    response = dispose(supervisor_client, ended_call(agent, campaign), "Sale")
    assert response.status_code == 403


def test_the_panel_gets_the_dispositions_of_the_call_just_ended(agent_client, agent, campaign):
    lead = lead_for(campaign, data={"plan": "gold"})
    call = ended_call(agent, campaign, lead)

    body = agent_client.get(reverse("telephony:call_dispositions", args=[call.pk])).json()

    assert "Sale" in [item["name"] for item in body["dispositions"]]
    assert body["wrapup_seconds"] == 60 and body["lead"]["data"] == {"plan": "gold"}


def test_a_retry_disposition_with_no_delay_is_refused(campaign):
    with pytest.raises(ValidationError, match="delay"):
        disposition_save(campaign=campaign, fields={"name": "Later", "policy": "retry"})
    assert not Disposition.objects.filter(name="Later").exists()
