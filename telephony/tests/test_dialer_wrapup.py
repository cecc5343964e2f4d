"""The agent's wrap-up of a dialer call on the session page: the campaign's dispositions, saving
one (the lead gets its policy, the ledger row its disposition, sealed, once), and the agent back
to ready or paused; only the attempt's own agent may do it."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from telephony.dialer.sessions import agent_session_pause, wrapups_expire
from telephony.models import (
    AgentSession,
    Callback,
    CallDisposition,
    DialAttempt,
    Disposition,
    Lead,
    PauseCode,
)
from telephony.tests.campaign_helpers import lead_for, running_campaign
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db
State = AgentSession.State
Status = DialAttempt.Status


@pytest.fixture
def wrap_up(agent):
    """Bob in session, in wrap-up after a dialer call to Ana that he talked with."""
    campaign = running_campaign("Spring", agents=[agent], wrapup_seconds=60)
    lead = lead_for(campaign, "+12125550100", first_name="Ana", data={"Plan": "gold"},
                    state=Lead.State.IN_PROGRESS, attempts=1)
    now = timezone.now()
    attempt = DialAttempt.objects.create(
        campaign_id=campaign.pk, lead_id=lead.pk, phone_number=lead.phone_number,
        created_at=now - datetime.timedelta(seconds=40), status=Status.COMPLETED,
        connected_at=now - datetime.timedelta(seconds=30), ended_at=now, agent_id=agent.pk,
        agent_username="bob", talk_seconds=30.0)
    session = AgentSession.objects.create(
        agent=agent, campaign=campaign, server=make_server(), live_agent_id=agent.pk,
        state=State.WRAP_UP, state_since=now, attempt_id=attempt.pk, connected_at=now,
        bridge_id="agent-x")
    dispositions = {
        "sale": Disposition.objects.create(campaign=campaign, name="Sale", policy="final"),
        "callback": Disposition.objects.create(campaign=campaign, name="Call back",
                                               policy="callback"),
    }
    return session, attempt, lead, dispositions


def save(client, attempt, **body):
    return client.post(reverse("telephony:attempt_disposition", args=[attempt.pk]),
                       json.dumps(body), content_type="application/json")


def test_the_form_lists_the_campaigns_dispositions_and_the_lead(wrap_up, agent_client):
    _session, attempt, _lead, _ = wrap_up
    data = agent_client.get(reverse("telephony:attempt_dispositions",
                                    args=[attempt.pk])).json()
    assert [(d["name"], d["policy"]) for d in data["dispositions"]] == [
        ("Call back", "callback"), ("Sale", "final")]
    assert data["lead"]["name"] == "Ana" and data["lead"]["data"] == {"Plan": "gold"}
    assert (data["wrapup_seconds"], data["done"]) == (60, False)


def test_a_disposition_seals_the_ledger_row_applies_its_policy_and_makes_the_agent_ready(
        wrap_up, agent_client):
    session, attempt, lead, dispositions = wrap_up
    response = save(agent_client, attempt, disposition_id=dispositions["sale"].pk,
                    notes="Took the gold plan.")
    assert response.status_code == 201, response.content
    attempt.refresh_from_db()
    assert (attempt.disposition, attempt.status) == ("Sale", Status.COMPLETED)
    assert attempt.closed_at is not None and attempt.wrap_seconds >= 0
    lead.refresh_from_db()
    assert (lead.state, lead.disposition_id) == (Lead.State.FINAL, dispositions["sale"].pk)
    record = CallDisposition.objects.get()
    assert (record.lead_id, record.agent.username, record.notes) == (
        lead.pk, "bob", "Took the gold plan.")
    session.refresh_from_db()
    assert (session.state, session.attempt_id) == (State.READY, None)
    assert list(session.state_changes.values_list("from_state", "to_state")) == [
        ("wrap_up", "ready")]


def test_the_agent_may_pause_after_the_disposition(wrap_up, agent_client):
    session, attempt, _lead, dispositions = wrap_up
    lunch = PauseCode.objects.create(code="lunch", name="Lunch")
    response = save(agent_client, attempt, disposition_id=dispositions["sale"].pk,
                    then="pause", pause_code_id=lunch.pk)
    assert response.status_code == 201, response.content
    session.refresh_from_db()
    assert (session.state, session.pause_code) == (State.PAUSED, lunch)
    assert save(agent_client, attempt, disposition_id=dispositions["sale"].pk, then="pause",
                pause_code_id=999).status_code == 400  # checked before anything changes


def test_a_call_back_disposition_schedules_the_callback_in_the_leads_time(wrap_up,
                                                                        agent_client):
    _session, attempt, lead, dispositions = wrap_up
    missing = save(agent_client, attempt, disposition_id=dispositions["callback"].pk)
    assert missing.status_code == 400 and "callback" in missing.json()["error"].lower()
    attempt.refresh_from_db()
    assert attempt.closed_at is None  # nothing sealed by a refused save
    when = (timezone.now() + datetime.timedelta(days=2)).astimezone(
        datetime.timezone(datetime.timedelta(hours=-5))).replace(tzinfo=None, microsecond=0)
    response = save(agent_client, attempt, disposition_id=dispositions["callback"].pk,
                    callback_at=when.isoformat(), callback_for="anyone")
    assert response.status_code == 201, response.content
    callback = Callback.objects.get()
    assert callback.lead_id == lead.pk and callback.agent is None
    lead.refresh_from_db()
    assert lead.state == Lead.State.CALLBACK


def test_an_attempt_takes_one_disposition_and_then_nothing_changes_it(wrap_up, agent_client):
    _session, attempt, _lead, dispositions = wrap_up
    assert save(agent_client, attempt, disposition_id=dispositions["sale"].pk
                ).status_code == 201
    again = save(agent_client, attempt, disposition_id=dispositions["callback"].pk)
    assert (again.status_code, again.json()["code"]) == (409, "wrapup_over")
    assert CallDisposition.objects.count() == 1
    # Nor around the services: the database trigger refuses a sealed row's change.
    key = str(attempt.pk) if connection.vendor == "postgresql" else attempt.pk.hex
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {DialAttempt._meta.db_table} SET disposition = %s "
                       f"WHERE id = %s", ["Other", key])
    attempt.refresh_from_db()
    assert attempt.disposition == "Sale"


def test_after_the_wrap_up_limit_the_disposition_is_refused(wrap_up, agent_client):
    session, attempt, _lead, dispositions = wrap_up
    assert wrapups_expire(now=timezone.now() + datetime.timedelta(seconds=61)) == 1
    response = save(agent_client, attempt, disposition_id=dispositions["sale"].pk)
    assert (response.status_code, response.json()["code"]) == (409, "wrapup_over")
    attempt.refresh_from_db()
    assert attempt.disposition == "NODISPO" and attempt.closed_at is not None
    # The lead's history holds the system's entry only, not the refused late one.
    assert list(CallDisposition.objects.values_list("system_code", "disposition")) == [
        ("NODISPO", None)]


def test_a_call_still_talking_takes_no_disposition(wrap_up, agent_client):
    session, attempt, _lead, dispositions = wrap_up
    DialAttempt.objects.filter(pk=attempt.pk).update(status=Status.CONNECTED, ended_at=None)
    AgentSession.objects.filter(pk=session.pk).update(state=State.ON_CALL)
    response = save(agent_client, attempt, disposition_id=dispositions["sale"].pk)
    assert (response.status_code, response.json()["code"]) == (409, "call_live")


def test_another_agent_can_neither_read_nor_disposition_the_attempt(wrap_up, client,
                                                                    other_agent,
                                                                    supervisor_client):
    session, attempt, _lead, dispositions = wrap_up
    client.force_login(other_agent)
    url = reverse("telephony:attempt_dispositions", args=[attempt.pk])
    assert client.get(url).status_code == 404
    assert save(client, attempt, disposition_id=dispositions["sale"].pk).status_code == 404
    assert supervisor_client.get(url).status_code == 403
    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.closed_at is None and session.state == State.WRAP_UP
    assert not CallDisposition.objects.exists()
    assert client.get(reverse("telephony:attempt_dispositions", args=["nonsense"])
                      ).status_code == 404


def test_a_disposition_from_another_campaign_is_refused(wrap_up, agent_client):
    _session, attempt, _lead, _ = wrap_up
    elsewhere = Disposition.objects.create(campaign=running_campaign("Other"), name="Sale")
    response = save(agent_client, attempt, disposition_id=elsewhere.pk)
    assert response.status_code == 400
    attempt.refresh_from_db()
    assert attempt.closed_at is None


def test_pausing_from_wrap_up_without_a_disposition_seals_the_row_with_nodispo(wrap_up):
    session, attempt, lead, _ = wrap_up
    agent_session_pause(session=session, pause_code=PauseCode.objects.create(
        code="break", name="Break"))
    attempt.refresh_from_db()
    assert attempt.closed_at is not None and attempt.disposition == "NODISPO"
    lead.refresh_from_db()
    assert lead.state == Lead.State.RETRY  # back in the pool, not "in progress" for ever


def test_the_session_page_carries_the_dialer_wrap_up_form(wrap_up, agent_client):
    PauseCode.objects.create(code="lunch", name="Lunch")
    page = agent_client.get(reverse("telephony:agent_dialer")).content.decode()
    assert 'id="wrapup"' in page and "/api/dialer/attempts/" in page
    assert 'value="ready"' in page and ">Pause: Lunch<" in page
    assert "js/agent-dispositions.js" in page
