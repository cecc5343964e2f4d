"""A campaign that requires a disposition (`disposition_required`): in wrap-up, Ready and Pause
are refused and not offered; the disposition form's "Then" moves the agent on; the wrap-up
limit and the phone hanging up still end the wrap-up (NODISPO). Off, the agent leaves wrap-up
as before. On the ARI fake, the worker's real step and the real events."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from telephony.dialer.sessions import (
    DISPOSITION_FIRST,
    SessionError,
    agent_session_ready,
    wrapups_expire,
)
from telephony.models import (
    AgentSession,
    CallDisposition,
    Campaign,
    Disposition,
    Lead,
    PauseCode,
)
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.test_dialer_nodispo import (  # noqa: F401 (the fixtures)
    assert_nodispo_and_retry,
    floor,
    talked,
)
from telephony.tests.test_dialer_worker import setup  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
State = AgentSession.State


@pytest.fixture
def required(floor):  # noqa: F811 (the imported fixture)
    """Bob ready on a campaign that requires a disposition, which has one to pick."""
    line, campaign = floor
    campaign.disposition_required = True
    campaign.save()
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    return line, campaign, sale


def still_in_wrap_up(session, attempt):
    """Nothing moved: the agent in wrap-up with the call, the row open, the lead in progress,
    no history entry, no state change out of wrap-up."""
    session.refresh_from_db()
    attempt.refresh_from_db()
    assert (session.state, session.attempt_id) == (State.WRAP_UP, attempt.pk)
    assert attempt.closed_at is None and attempt.disposition == ""
    assert Lead.objects.get(pk=attempt.lead_id).state == Lead.State.IN_PROGRESS
    assert not CallDisposition.objects.exists()
    assert not session.state_changes.filter(from_state=State.WRAP_UP).exists()


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_ready_in_wrap_up_is_refused_with_a_message(required, agent, agent_client):
    line, _campaign, _sale = required
    session, attempt = talked(line, agent)

    response = agent_client.post(reverse("telephony:agent_dialer_ready"))

    assert response.status_code == 302
    assert flashed(response) == [DISPOSITION_FIRST]
    assert DISPOSITION_FIRST == "Pick a disposition for this call first."
    still_in_wrap_up(session, attempt)


def test_pause_in_wrap_up_is_refused_with_a_message(required, agent, agent_client):
    line, _campaign, _sale = required
    session, attempt = talked(line, agent)
    lunch = PauseCode.objects.create(code="lunch", name="Lunch")

    response = agent_client.post(reverse("telephony:agent_dialer_pause"),
                                 {"pause_code": lunch.pk})

    assert response.status_code == 302
    assert flashed(response) == [DISPOSITION_FIRST]
    still_in_wrap_up(session, attempt)
    with pytest.raises(SessionError):  # the service itself refuses, whoever calls it
        agent_session_ready(session=session)
    still_in_wrap_up(session, attempt)


@pytest.mark.parametrize("then", ["ready", "pause"])
def test_the_disposition_moves_the_agent_on(then, required, agent, agent_client):
    line, _campaign, sale = required
    session, attempt = talked(line, agent)
    lunch = PauseCode.objects.create(code="lunch", name="Lunch")
    body = {"disposition_id": sale.pk, "then": then}
    if then == "pause":
        body["pause_code_id"] = lunch.pk

    response = agent_client.post(reverse("telephony:attempt_disposition", args=[attempt.pk]),
                                 json.dumps(body), content_type="application/json")

    assert response.status_code == 201, response.content
    session.refresh_from_db()
    attempt.refresh_from_db()
    assert session.state == (State.READY if then == "ready" else State.PAUSED)
    assert attempt.disposition == "Sale" and attempt.closed_at is not None
    assert list(CallDisposition.objects.values_list("disposition__name", "system_code")) == [
        ("Sale", "")]


def test_the_wrap_up_limit_still_ends_it_with_nodispo(required, agent):
    line, campaign, _sale = required
    campaign.wrapup_seconds = 30
    campaign.save()
    session, attempt = talked(line, agent)
    due = session.state_since + datetime.timedelta(seconds=31)

    assert wrapups_expire(now=due) == 1

    assert_nodispo_and_retry(attempt, ended_at=due)  # with its history entry
    session.refresh_from_db()
    assert session.state == State.READY


def test_the_phone_hanging_up_still_ends_the_session(required, agent):
    line, _campaign, _sale = required
    session, attempt = talked(line, agent)

    line.fake.remote_hangup(str(session.pk), cause=16, cause_txt="Normal Clearing")
    line.deliver()

    assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert session.state == State.LOGGED_OUT and session.ended_at is not None


def test_with_no_disposition_to_pick_ready_is_allowed(required, agent, agent_client):
    """Refusing Ready would leave the agent nothing to press."""
    line, _campaign, sale = required
    sale.is_active = False
    sale.save()
    session, attempt = talked(line, agent)

    agent_client.post(reverse("telephony:agent_dialer_ready"))

    assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert session.state == State.READY


def test_off_ready_in_wrap_up_ends_it_as_before(floor, agent, agent_client):  # noqa: F811
    line, campaign = floor
    Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    assert Campaign.objects.get(pk=campaign.pk).disposition_required is False  # the default
    session, attempt = talked(line, agent)

    response = agent_client.post(reverse("telephony:agent_dialer_ready"))

    assert flashed(response) == []
    assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert session.state == State.READY


@pytest.mark.parametrize("on", [True, False])
def test_the_page_offers_ready_and_pause_in_wrap_up_only_when_not_required(
        on, floor, agent, agent_client):  # noqa: F811
    line, campaign = floor
    campaign.disposition_required = on
    campaign.save()
    Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    PauseCode.objects.create(code="lunch", name="Lunch")
    talked(line, agent)

    page = agent_client.get(reverse("telephony:agent_dialer")).content.decode()
    state = agent_client.get(reverse("telephony:agent_dialer_state")).json()

    assert state["session"]["disposition_required"] is on
    for action in ("ready", "pause"):
        form = page[page.index(f'action="{reverse(f"telephony:agent_dialer_{action}")}"'):]
        form = form[:form.index(">")]
        assert ("hidden" in form) is on, form
    note = page[page.index('id="disposition-required"'):]
    assert ("hidden" in note[:note.index(">")]) is not on
    assert 'id="wrapup-then"' in page  # the way on: the disposition form's "Then"


def test_once_out_of_wrap_up_ready_is_offered_again(required, agent, agent_client):
    line, _campaign, sale = required
    _session, attempt = talked(line, agent)
    lunch = PauseCode.objects.create(code="lunch", name="Lunch")
    agent_client.post(reverse("telephony:attempt_disposition", args=[attempt.pk]),
                      json.dumps({"disposition_id": sale.pk, "then": "pause",
                                  "pause_code_id": lunch.pk}),
                      content_type="application/json")

    state = agent_client.get(reverse("telephony:agent_dialer_state")).json()
    assert (state["session"]["state"], state["session"]["disposition_required"]) == (
        "paused", False)
    assert agent_client.post(reverse("telephony:agent_dialer_ready")).status_code == 302
    assert AgentSession.objects.get(pk=_session.pk).state == State.READY


def test_supervisors_set_it_on_the_campaign_form(supervisor_client):
    from telephony.tests.test_campaigns import CREATE, form_data

    page = supervisor_client.get(CREATE).content.decode()
    assert 'name="disposition_required"' in page
    assert "no agent sits idle for ever" in page  # the help text says what still ends it
    assert supervisor_client.post(CREATE, form_data(disposition_required="on")
                                  ).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.disposition_required is True
    edit = reverse("telephony:campaign_edit", args=[campaign.pk])
    assert supervisor_client.post(edit, form_data()).status_code == 302
    campaign.refresh_from_db()
    assert campaign.disposition_required is False  # unticked
    detail = supervisor_client.get(reverse("telephony:campaign_detail", args=[campaign.pk]))
    assert "Disposition before the next call" in detail.content.decode()

