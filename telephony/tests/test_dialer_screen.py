"""The agent's screen pop: the session and the connected customer's lead (JSON and the pushed
event stream), each agent seeing only their own."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.dialer.screen import session_screen
from telephony.models import AgentSession, CallDisposition, DialAttempt, Disposition
from telephony.tests.campaign_helpers import lead_for, running_campaign
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db
State = AgentSession.State


@pytest.fixture
def on_call(agent):
    """Bob in session, just given a customer whose lead was called once before."""
    campaign = running_campaign("Spring", agents=[agent])
    lead = lead_for(campaign, "+12125550100", first_name="Ana", last_name="López",
                    data={"Konto": "A-2", "Plan": "<b>gold</b>"}, attempts=1)
    earlier = DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=lead.pk,
                                         phone_number=lead.phone_number,
                                         agent_username="carol", disposition="Call back",
                                         created_at=timezone.now())
    disposition = Disposition.objects.create(campaign=campaign, name="Call back",
                                             policy="callback")
    CallDisposition.objects.create(disposition=disposition, lead=lead, campaign=campaign,
                                   notes="Call after 6 pm.")
    now = timezone.now()
    attempt = DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=lead.pk,
                                         phone_number=lead.phone_number, created_at=now,
                                         status=DialAttempt.Status.CONNECTED, connected_at=now)
    session = AgentSession.objects.create(agent=agent, campaign=campaign, server=make_server(),
                                          live_agent_id=agent.pk, state=State.ON_CALL,
                                          attempt_id=attempt.pk, connected_at=now)
    return session, lead, attempt, earlier


def test_the_screen_shows_the_connected_customers_lead_history_and_notes(on_call, agent):
    session, lead, attempt, earlier = on_call

    screen = session_screen(agent)

    assert screen["session"]["state"] == "on_call"
    customer = screen["customer"]
    assert (customer["attempt_id"], customer["number"]) == (str(attempt.pk), "+12125550100")
    shown = customer["lead"]
    assert (shown["name"], shown["timezone"], shown["attempts"]) == ("Ana López",
                                                                     "America/New_York", 1)
    assert shown["data"] == {"Konto": "A-2", "Plan": "<b>gold</b>"}
    assert [(p["status"], p["disposition"], p["agent"]) for p in shown["previous"]] == \
        [("dialing", "Call back", "carol")]  # the current attempt is not "earlier"
    assert [n["notes"] for n in shown["notes"]] == ["Call after 6 pm."]


def test_without_a_customer_there_is_no_pop_and_the_version_changes_with_the_state(on_call,
                                                                                    agent):
    session, *_ = on_call
    before = session_screen(agent)["version"]
    AgentSession.objects.filter(pk=session.pk).update(state=State.READY, attempt_id=None,
                                                      state_since=timezone.now())
    screen = session_screen(agent)
    assert screen["customer"] is None and screen["version"] != before
    AgentSession.objects.filter(pk=session.pk).update(ended_at=timezone.now())
    assert session_screen(agent) == {"session": None, "version": "none"}


def test_an_agent_reads_only_their_own_screen_and_other_roles_are_refused(
        on_call, client, agent_client, other_agent, supervisor_client):
    assert agent_client.get(reverse("telephony:agent_dialer_state")).json()["customer"]
    other = client
    other.force_login(other_agent)
    assert other.get(reverse("telephony:agent_dialer_state")).json()["session"] is None
    for name in ("agent_dialer_state", "agent_dialer_events"):
        assert supervisor_client.get(reverse(f"telephony:{name}")).status_code == 403
        client.logout()
        assert client.get(reverse(f"telephony:{name}")).status_code == 401


def _events(stream):
    """The server-sent events of a streamed response, as (event, data) pairs, lazily."""
    for chunk in stream:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines()
                      if ": " in line and not line.startswith(":"))
        if "event" in fields:
            yield fields["event"], json.loads(fields["data"])


def test_the_stream_pushes_the_screen_now_and_again_when_it_changes(on_call, agent_client,
                                                                     settings):
    session, lead, attempt, _earlier = on_call
    settings.DIALER_PUSH_INTERVAL_MS = 10
    settings.DIALER_PUSH_STREAM_SECONDS = 5
    response = agent_client.get(reverse("telephony:agent_dialer_events"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert "no-store" in response["Cache-Control"]
    stream = iter(response.streaming_content)
    assert next(stream).startswith(b"retry: ")
    events = _events(stream)

    kind, first = next(events)
    assert kind == "screen" and first["customer"]["lead"]["name"] == "Ana López"
    # The customer hangs up: the worker puts the agent in wrap-up; the stream says so.
    AgentSession.objects.filter(pk=session.pk).update(state=State.WRAP_UP,
                                                      state_since=timezone.now())
    kind, second = next(events)
    assert second["session"]["state"] == "wrap_up"
    assert second["customer"]["attempt_id"] == str(attempt.pk)  # still on screen to write up
    response.close()
