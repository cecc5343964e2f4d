"""The call-control JSON API (docs/api.md) against the fake AMI: originate, hang up, transfer,
current call, call status, idempotency, permissions and Asterisk faults."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telephony.models import Call, Campaign, IdempotentRequest, Phone
from telephony.services.call_events import handle_event
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import answered_call, make_call, post_json
from telephony.tests.campaign_helpers import running_campaign
from telephony.tests.fakes.ami import closed_port, registered_endpoint, unregistered_endpoint
from telephony.tests.phone_helpers import add_contact

pytestmark = pytest.mark.django_db

API_POSTS = ("call_originate", "call_hangup", "call_transfer")


def sent(fake, name: str) -> list[dict]:
    """The actions `name` the fake received, without panoramisk's generated ActionIDs."""
    return [{k: v for k, v in action.items() if k != "ActionID"}
            for action in fake.actions_named(name)]


# --- originate ---
def test_it_originates_from_the_agents_own_phone(agent_client, agent_phone, fake_ami):
    response = post_json(agent_client, "call_originate", {"phone_number": "+1 555 123 4567"})

    assert response.status_code == 201
    body = response.json()
    call = Call.objects.get()
    assert body == {"call_id": str(call.id), "status": "queued", "number": "+15551234567"}
    assert (call.user, call.phone, call.server) == (agent_phone.user, agent_phone,
                                                    agent_phone.server)
    assert fake_ami.actions_named("Originate") == [{
        "Action": "Originate", "ActionID": str(call.id), "Channel": "PJSIP/1001",
        "Context": "agents", "Exten": "+15551234567", "Priority": "1", "Timeout": "30000",
        "Async": "true", "CallerID": '"Bob" <5550001>',
        "Variable": f"AUTODIALER_CALL_ID={call.id}",
    }]


def test_it_reads_national_numbers_in_the_default_region(agent_client, agent_phone, fake_ami,
                                                          settings):
    settings.PHONE_DEFAULT_REGION = "GB"

    response = post_json(agent_client, "call_originate", {"phone_number": "020 7946 0958"})

    assert response.json()["number"] == "+442079460958"
    assert fake_ami.actions_named("Originate")[0]["Exten"] == "+442079460958"


def test_it_dials_a_colleagues_extension_as_is(agent_client, agent_phone, other_phone, fake_ami):
    response = post_json(agent_client, "call_originate", {"phone_number": "1002"})

    assert response.status_code == 201
    assert fake_ami.actions_named("Originate")[0]["Exten"] == "1002"


def test_it_refuses_to_dial_the_agents_own_extension(agent_client, agent_phone, fake_ami):
    response = post_json(agent_client, "call_originate", {"phone_number": "1001"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_number"
    assert fake_ami.connection_count == 0


def test_it_uses_the_campaigns_caller_id(agent_client, agent, agent_phone, fake_ami):
    campaign = running_campaign("Spring", agents=[agent], caller_id_name="Spring Sale",
                                caller_id_number="+15550100")

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "5551234567", "campaign_id": campaign.pk})

    assert response.status_code == 201
    assert Call.objects.get().campaign == campaign
    assert fake_ami.actions_named("Originate")[0]["CallerID"] == '"Spring Sale" <+15550100>'


def test_it_accepts_the_campaign_id_as_a_string(agent_client, agent, agent_phone, fake_ami):
    campaign = running_campaign("Spring", agents=[agent])

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "5551234567", "campaign_id": str(campaign.pk)})

    assert response.status_code == 201


@pytest.mark.parametrize("status", ["draft", "finished"])
def test_it_refuses_a_campaign_that_is_not_running(status, agent_client, agent, agent_phone,
                                                    fake_ami):
    campaign = running_campaign("Old", agents=[agent])
    Campaign.objects.filter(pk=campaign.pk).update(status=status)

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "5551234567", "campaign_id": campaign.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_campaign"
    assert fake_ami.connection_count == 0


def test_it_refuses_a_campaign_the_agent_is_not_assigned_to(agent_client, agent_phone,
                                                             other_agent, fake_ami):
    campaign = running_campaign("Theirs", agents=[other_agent])

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "5551234567", "campaign_id": campaign.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_campaign"
    assert fake_ami.connection_count == 0


def test_without_a_phone_it_answers_the_guides_message(agent_client, fake_ami):
    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 409
    assert response.json() == {"error": "No active phone assigned", "code": "no_phone"}
    assert fake_ami.connection_count == 0


def test_an_inactive_phone_does_not_count(agent_client, agent_phone, fake_ami):
    Phone.objects.filter(pk=agent_phone.pk).update(is_active=False)

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 409
    assert response.json()["code"] == "no_phone"


def test_it_allows_one_live_call_at_a_time(agent_client, agent_phone, fake_ami):
    make_call(agent_phone, status=Call.Status.RINGING)

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 409
    assert response.json()["code"] == "call_in_progress"
    assert fake_ami.connection_count == 0


def test_a_queued_call_nothing_ever_reported_on_does_not_block_forever(agent_client,
                                                                        agent_phone, fake_ami):
    stale = make_call(agent_phone)
    Call.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 201
    stale.refresh_from_db()
    assert stale.status == Call.Status.FAILED
    assert "asterisk_events" in stale.error_message


def test_the_status_endpoints_end_a_stale_queued_call_so_the_panel_stops_waiting(
        agent_client, agent_phone, other_phone):
    stale = make_call(agent_phone)
    fresh = make_call(agent_phone)
    others = make_call(other_phone)
    Call.objects.filter(pk__in=[stale.pk, others.pk]).update(
        created_at=timezone.now() - timedelta(minutes=5))

    body = agent_client.get(reverse("telephony:call_status", args=[stale.pk])).json()

    assert body["call"]["status"] == "failed"
    assert "asterisk_events" in body["call"]["error"]
    assert Call.objects.get(pk=fresh.pk).status == Call.Status.QUEUED  # not stale yet
    assert Call.objects.get(pk=others.pk).status == Call.Status.QUEUED  # not this user's
    current = agent_client.get(reverse("telephony:call_current")).json()["call"]
    assert current["call_id"] == str(fresh.pk)


def test_it_refuses_a_body_that_is_not_a_json_object(agent_client, agent_phone, fake_ami):
    for raw in (b"not json", b"[1, 2]", b'"5551234567"', b"\xff\xfe", b"[" * 100_000):
        response = post_json(agent_client, "call_originate", raw=raw)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_json"
    assert fake_ami.connection_count == 0


# --- Asterisk faults: right status, a message, within the timeout ---
def _originate_timed(client) -> tuple[object, float]:
    started = time.monotonic()
    response = post_json(client, "call_originate", {"phone_number": "5551234567"})
    return response, time.monotonic() - started


def test_asterisk_down_gives_502_and_marks_the_call_failed(agent_client, agent_phone):
    agent_phone.server.ami_port = closed_port()
    agent_phone.server.save()

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 502
    assert response.json()["code"] == "asterisk_unreachable"
    assert "connection refused" in response.json()["error"]
    assert elapsed < 2
    call = Call.objects.get()
    assert call.status == Call.Status.FAILED
    assert "connection refused" in call.error_message
    assert call.ended_at is not None


def test_an_unknown_ami_host_gives_502(agent_client, agent_phone):
    agent_phone.server.ami_host = "does-not-exist.invalid"
    agent_phone.server.save()

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 502
    assert response.json()["code"] == "asterisk_unreachable"
    assert elapsed < 5


def test_a_wrong_ami_password_gives_502_auth(agent_client, agent_phone, fake_ami):
    agent_phone.server.ami_password = "wrong"
    agent_phone.server.save()

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 502
    assert response.json() == {"error": "Asterisk refused the AMI username/password",
                               "code": "asterisk_auth"}
    assert fake_ami.actions_named("Originate") == []
    assert elapsed < 2


def test_an_asterisk_that_never_answers_gives_504_within_the_timeout(agent_client, agent_phone,
                                                                     fake_ami):
    fake_ami.black_hole = True

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 504
    assert response.json()["code"] == "asterisk_timeout"
    assert "did not answer within 1 s" in response.json()["error"]
    assert elapsed < 2
    assert Call.objects.get().status == Call.Status.FAILED


def test_the_default_timeout_bounds_a_hung_asterisk_to_5_seconds(agent_client, agent_phone,
                                                                 fake_ami, settings):
    settings.ASTERISK_TIMEOUT = 5.0
    fake_ami.black_hole = True

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 504
    assert "within 5 s" in response.json()["error"]
    assert 4.5 < elapsed < 5.5


def test_asterisk_hanging_after_login_fails_the_call_without_dialling(agent_client,
                                                                     agent_phone, fake_ami):
    # Logged in, then the host freezes: the phone check gets no answer, no Originate is sent,
    # so nothing can ring and the call failed for certain.
    fake_ami.freeze_after_login = True

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 504
    assert response.json()["code"] == "asterisk_timeout"
    assert elapsed < 2.5
    assert fake_ami.actions_named("PJSIPShowEndpoint") and not fake_ami.actions_named(
        "Originate")
    assert Call.objects.get().status == Call.Status.FAILED


def test_asterisk_hanging_on_the_originate_gives_504_unconfirmed(agent_client, agent_phone,
                                                                fake_ami):
    # The Originate itself gets no answer.
    fake_ami.freeze_on_actions = {"originate"}

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 504
    assert response.json()["code"] == "asterisk_unconfirmed"
    assert elapsed < 2.5
    # The Originate was written before the freeze: Asterisk may have acted on it.
    assert len(fake_ami.actions_named("Originate")) == 1
    assert Call.objects.get().status == Call.Status.QUEUED


# --- an Originate Asterisk received but did not confirm in time ---
def test_a_late_originate_answer_leaves_the_call_queued_for_its_events(agent_client,
                                                                        agent_phone, fake_ami):
    fake_ami.originate_ack_delay = 1.5  # longer than the 1 s timeout of the tests

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 504
    body = response.json()
    assert body["code"] == "asterisk_unconfirmed"
    assert "may still ring your phone" in body["error"]
    assert elapsed < 2
    call = Call.objects.get()
    assert body["call_id"] == str(call.id)
    assert call.status == Call.Status.QUEUED and call.ended_at is None
    # Asterisk queued it after all: its OriginateResponse moves the call on.
    handle_event(agent_phone.server, {
        "Event": "OriginateResponse", "ActionID": str(call.id), "Response": "Success",
        "Channel": "PJSIP/1001-00000001", "Reason": "4", "Uniqueid": "1795.1"})
    call.refresh_from_db()
    assert call.status == Call.Status.RINGING and call.channel == "PJSIP/1001-00000001"


def test_an_unconfirmed_call_blocks_a_second_dial_until_hung_up(agent_client, agent_phone,
                                                               fake_ami):
    fake_ami.originate_ack_delay = 1.5
    first = _originate_timed(agent_client)[0].json()

    again = post_json(agent_client, "call_originate", {"phone_number": "5559876543"})
    assert again.status_code == 409 and again.json()["code"] == "call_in_progress"

    fake_ami.originate_ack_delay = 0
    hung_up = post_json(agent_client, "call_hangup", {"call_id": first["call_id"]})
    assert hung_up.status_code == 200
    # No channel was known yet: the hangup names every channel of the agent's phone.
    assert sent(fake_ami, "Hangup")[-1]["Channel"] == "/^PJSIP/1001-/"
    assert Call.objects.get(pk=first["call_id"]).status == Call.Status.CANCELLED
    assert post_json(agent_client, "call_originate",
                     {"phone_number": "5559876543"}).status_code == 201


def test_a_retried_unconfirmed_originate_never_dials_twice(agent_client, agent_phone, fake_ami):
    fake_ami.originate_ack_delay = 1.5
    headers = {"Idempotency-Key": "click-1"}

    first = post_json(agent_client, "call_originate", {"phone_number": "5551234567"}, **headers)
    retry = post_json(agent_client, "call_originate", {"phone_number": "5551234567"}, **headers)

    assert first.status_code == retry.status_code == 504
    assert retry.json() == first.json()  # the same call_id: the client can follow it
    assert len(fake_ami.actions_named("Originate")) == 1


def test_a_connection_dropped_after_the_originate_gives_502_unconfirmed(agent_client,
                                                                       agent_phone, fake_ami):
    fake_ami.drop_on_actions = {"originate"}

    response, elapsed = _originate_timed(agent_client)

    assert response.status_code == 502
    assert response.json()["code"] == "asterisk_unconfirmed"
    assert elapsed < 2
    assert Call.objects.get().status == Call.Status.QUEUED


def test_a_refused_login_is_never_unconfirmed(agent_client, agent_phone, fake_ami):
    # The Login left us, the Originate never did: the call failed for certain.
    agent_phone.server.ami_password = "wrong"
    agent_phone.server.save()

    response = _originate_timed(agent_client)[0]

    assert response.json()["code"] == "asterisk_auth"
    assert Call.objects.get().status == Call.Status.FAILED


# --- hangup ---
def test_it_hangs_up_the_agents_live_call(agent_client, agent_phone, fake_ami):
    call = answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_hangup", {"call_id": str(call.id)})

    assert response.status_code == 200
    body = response.json()
    assert body["call_id"] == str(call.id)
    assert body["status"] == "completed"
    assert body["is_live"] is False and body["can_hangup"] is False
    assert body["duration"] >= 42
    assert sent(fake_ami, "Hangup") == [{"Action": "Hangup", "Channel": call.channel,
                                                 "Cause": "16"}]


def test_without_a_call_id_it_hangs_up_the_live_call(agent_client, agent_phone, fake_ami):
    call = answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_hangup")

    assert response.status_code == 200
    assert response.json()["call_id"] == str(call.id)


def test_hanging_up_before_asterisk_named_the_channel_targets_the_agents_phone(
        agent_client, agent_phone, fake_ami):
    call = make_call(agent_phone)
    ringing = fake_ami.add_channel("PJSIP/1001-0000002a")
    fake_ami.add_channel("PJSIP/10010-0000002b")  # another phone whose name starts the same

    response = post_json(agent_client, "call_hangup", {"call_id": str(call.id)})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert fake_ami.actions_named("Hangup")[0]["Channel"] == "/^PJSIP/1001-/"
    assert set(fake_ami.channels) == {"PJSIP/10010-0000002b"}
    assert ringing["Channel"] not in fake_ami.channels


def test_hanging_up_a_call_whose_phone_leg_is_already_gone_ends_it(agent_client, agent_phone,
                                                                   fake_ami):
    # Asterisk answers the regex with an empty list: nothing to hang up, the log still ends it.
    call = make_call(agent_phone)

    response = post_json(agent_client, "call_hangup", {"call_id": str(call.id)})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_hangup_with_no_live_call_is_409(agent_client, agent_phone, fake_ami):
    ended = make_call(agent_phone, status=Call.Status.COMPLETED)

    assert post_json(agent_client, "call_hangup").json()["code"] == "no_live_call"
    response = post_json(agent_client, "call_hangup", {"call_id": str(ended.id)})
    assert response.status_code == 409
    assert response.json()["code"] == "no_live_call"
    assert fake_ami.connection_count == 0


def test_hangup_when_asterisk_is_down_is_502_and_the_call_stays_live(agent_client, agent_phone,
                                                                     fake_ami):
    call = answered_call(fake_ami, agent_phone)
    agent_phone.server.ami_port = closed_port()
    agent_phone.server.save()

    response = post_json(agent_client, "call_hangup", {"call_id": str(call.id)})

    assert response.status_code == 502
    assert response.json()["code"] == "asterisk_unreachable"
    call.refresh_from_db()
    assert call.is_live


# --- transfer ---
def test_it_blind_transfers_to_a_colleagues_extension(agent_client, agent_phone, other_phone,
                                                      fake_ami):
    call = answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_transfer",
                         {"call_id": str(call.id), "target": "1002"})

    assert response.status_code == 200
    body = response.json()
    assert (body["transferred_to"], body["status"]) == ("1002", "completed")
    # BlindTransfer takes the agent's own leg; Asterisk moves its bridged peer
    # (docs/asterisk-behaviour.md).
    assert sent(fake_ami, "BlindTransfer") == [{
        "Action": "BlindTransfer", "Channel": call.channel, "Context": "agents",
        "Exten": "1002"}]
    call.refresh_from_db()
    assert call.transferred_to == "1002" and call.ended_at is not None


def test_it_transfers_to_an_outside_number_in_e164(agent_client, agent_phone, fake_ami):
    answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_transfer", {"target": "(212) 555-0100"})

    assert response.status_code == 200
    assert fake_ami.actions_named("BlindTransfer")[0]["Exten"] == "+12125550100"


def test_it_refuses_a_transfer_to_an_extension_that_does_not_exist(agent_client, agent_phone,
                                                                   fake_ami):
    answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_transfer", {"target": "1999"})

    # Asterisk would say "success" and drop the caller: we never send it.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_target"
    assert fake_ami.connection_count == 0


def test_it_refuses_a_transfer_to_an_extension_of_another_server(agent_client, agent_phone,
                                                                 other_agent, fake_ami):
    elsewhere = type(agent_phone.server).objects.create(
        name="other", host="10.0.0.2", ami_host="10.0.0.2", ami_username="a", ami_password="b",
        ari_host="10.0.0.2", ari_username="a", ari_password="b")
    Phone.objects.create(extension="2001", name="Remote", server=elsewhere)
    answered_call(fake_ami, agent_phone)

    response = post_json(agent_client, "call_transfer", {"target": "2001"})

    assert response.status_code == 400
    assert fake_ami.connection_count == 0


def test_only_an_answered_call_can_be_transferred(agent_client, agent_phone, other_phone,
                                                  fake_ami):
    make_call(agent_phone, status=Call.Status.RINGING, channel="PJSIP/1001-00000001")

    response = post_json(agent_client, "call_transfer", {"target": "1002"})

    assert response.status_code == 409
    assert response.json()["code"] == "call_not_answered"
    assert fake_ami.connection_count == 0


def test_a_call_the_dialplan_answered_itself_cannot_be_transferred(agent_client, agent_phone,
                                                                   other_phone, fake_ami):
    # Connected to an Answer()/VoiceMail() step: no far end is bridged to the agent.
    call = make_call(agent_phone, status=Call.Status.ANSWERED, channel="PJSIP/1001-00000001",
                     answered_at=timezone.now())

    status = agent_client.get(reverse("telephony:call_status", args=[call.id])).json()["call"]
    response = post_json(agent_client, "call_transfer", {"target": "1002"})

    assert status["can_transfer"] is False
    assert response.status_code == 409 and response.json()["code"] == "call_not_answered"
    assert fake_ami.actions_named("BlindTransfer") == []


def test_a_transfer_asterisk_refuses_is_502_and_the_call_stays_live(agent_client, agent_phone,
                                                                    other_phone, fake_ami):
    call = answered_call(fake_ami, agent_phone)
    fake_ami.channels.clear()  # the channel vanished meanwhile

    response = post_json(agent_client, "call_transfer", {"target": "1002"})

    assert response.status_code == 502
    assert response.json() == {"error": "Asterisk refused the action: Channel specified does "
                                        "not exist", "code": "asterisk_refused"}
    call.refresh_from_db()
    assert call.is_live and call.transferred_to == ""


# --- current and status ---
def test_current_is_null_without_a_recent_call(agent_client, agent_phone):
    old = make_call(agent_phone, status=Call.Status.COMPLETED)
    Call.objects.filter(pk=old.pk).update(ended_at=timezone.now() - timedelta(minutes=5))

    response = agent_client.get(reverse("telephony:call_current"))

    assert response.status_code == 200
    assert response.json() == {"call": None}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_current_shows_the_live_call_with_its_state(agent_client, agent_phone, fake_ami):
    campaign = Campaign.objects.create(name="Spring")
    call = answered_call(fake_ami, agent_phone, campaign=campaign)

    body = agent_client.get(reverse("telephony:call_current")).json()["call"]

    assert body["call_id"] == str(call.id)
    assert body["status"] == "answered" and body["status_label"] == "Answered"
    assert body["is_live"] and body["can_hangup"] and body["can_transfer"]
    assert body["campaign"] == "Spring"
    assert body["answered_at"] is not None and body["ended_at"] is None
    assert set(body) == {"call_id", "number", "status", "status_label", "is_live", "direction",
                         "observed", "created_at",
                         "answered_at", "ended_at", "duration", "hangup_cause",
                         "hangup_cause_text", "transferred_to", "transfer_result", "error",
                         "campaign", "can_hangup", "can_transfer"}


def test_current_shows_how_the_last_call_ended_for_a_minute(agent_client, agent_phone):
    call = make_call(agent_phone, status=Call.Status.BUSY, ended_at=timezone.now(),
                     hangup_cause=17, hangup_cause_text="User busy")

    body = agent_client.get(reverse("telephony:call_current")).json()["call"]

    assert body["call_id"] == str(call.id)
    assert (body["status"], body["is_live"], body["hangup_cause"]) == ("busy", False, 17)


def test_status_shows_the_agents_own_call(agent_client, agent_phone):
    call = make_call(agent_phone)

    response = agent_client.get(reverse("telephony:call_status", args=[call.id]))

    assert response.status_code == 200
    assert response.json()["call"]["status"] == "queued"


# --- permissions: both ways ---
@pytest.mark.parametrize("name", API_POSTS)
def test_anonymous_gets_401_json(name, fake_ami):
    response = post_json(Client(), name, {"phone_number": "5551234567"})

    assert response.status_code == 401
    assert response.json() == {"error": "Not logged in", "code": "not_logged_in"}


def test_anonymous_gets_401_json_on_reads(db):
    for url in (reverse("telephony:call_current"),
                reverse("telephony:call_status", args=[uuid.uuid4()])):
        response = Client().get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "not_logged_in"


@pytest.mark.parametrize("persona", ["outsider", "supervisor"])
def test_users_without_the_agent_role_get_403(persona, request, fake_ami):
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    for name in API_POSTS:
        response = post_json(client, name, {"phone_number": "5551234567"})
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert client.get(reverse("telephony:call_current")).status_code == 403
    assert fake_ami.connection_count == 0


def test_an_admin_passes_the_agent_role_check(admin_user, admin_client, server, fake_ami):
    Phone.objects.create(extension="1009", name="Admin desk", server=server, user=admin_user)
    fake_ami.endpoints["1009"] = registered_endpoint("1009")

    response = post_json(admin_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 201


def test_an_agent_cannot_hang_up_transfer_or_read_another_agents_call(
        agent_client, agent_phone, other_phone, fake_ami):
    theirs = answered_call(fake_ami, other_phone)

    hangup = post_json(agent_client, "call_hangup", {"call_id": str(theirs.id)})
    transfer = post_json(agent_client, "call_transfer",
                         {"call_id": str(theirs.id), "target": "5551234567"})
    status = agent_client.get(reverse("telephony:call_status", args=[theirs.id]))
    current = agent_client.get(reverse("telephony:call_current"))

    for response in (hangup, transfer, status):
        assert response.status_code == 404
        assert response.json() == {"error": "No such call.", "code": "not_found"}
    assert current.json() == {"call": None}
    assert fake_ami.connection_count == 0
    theirs.refresh_from_db()
    assert theirs.is_live


def test_the_other_agent_can_act_on_their_own_call(other_agent, other_phone, fake_ami):
    theirs = answered_call(fake_ami, other_phone)
    client = Client()
    client.force_login(other_agent)

    response = post_json(client, "call_hangup", {"call_id": str(theirs.id)})

    assert response.status_code == 200


def test_get_on_a_post_endpoint_is_405_json(agent_client):
    response = agent_client.get(reverse("telephony:call_originate"))

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_csrf_is_enforced_with_a_json_answer(agent, agent_phone, fake_ami):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    refused = post_json(client, "call_originate", {"phone_number": "5551234567"})
    client.get(reverse("telephony:call_current"))  # any page sets the cookie in a browser
    client.cookies["csrftoken"] = "a" * 32
    accepted = post_json(client, "call_originate", {"phone_number": "5551234567"},
                         **{"X-CSRFToken": "a" * 32})

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert accepted.status_code == 201
    assert len(fake_ami.actions_named("Originate")) == 1


# --- Idempotency-Key ---
def test_the_same_idempotency_key_dials_once_and_returns_the_first_answer(agent_client,
                                                                          agent_phone, fake_ami):
    first = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                      **{"Idempotency-Key": "click-1"})
    again = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                      **{"Idempotency-Key": "click-1"})
    other_key = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                          **{"Idempotency-Key": "click-2"})

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other_key.status_code == 409  # a different request: one live call at a time
    assert len(fake_ami.actions_named("Originate")) == 1
    assert Call.objects.count() == 1


def test_an_idempotent_error_is_replayed_too(agent, agent_client, server, fake_ami):
    first = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                      **{"Idempotency-Key": "k"})
    Phone.objects.create(extension="1001", name="Desk", server=server, user=agent)
    again = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                      **{"Idempotency-Key": "k"})

    assert first.status_code == again.status_code == 409
    assert first.json() == again.json()
    assert fake_ami.connection_count == 0


def test_an_expired_idempotency_key_dials_again(agent_client, agent_phone, fake_ami):
    post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
              **{"Idempotency-Key": "k"})
    Call.objects.update(status=Call.Status.COMPLETED)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                         **{"Idempotency-Key": "k"})

    assert response.status_code == 201
    assert len(fake_ami.actions_named("Originate")) == 2


def test_keys_are_per_user(agent_client, agent_phone, other_agent, other_phone, fake_ami):
    client = Client()
    client.force_login(other_agent)

    for c in (agent_client, client):
        response = post_json(c, "call_originate", {"phone_number": "5551234567"},
                             **{"Idempotency-Key": "same"})
        assert response.status_code == 201
    assert len(fake_ami.actions_named("Originate")) == 2


def test_a_duplicate_still_in_flight_is_409_and_never_dials(agent, agent_client, agent_phone,
                                                            fake_ami):
    IdempotentRequest.objects.create(user=agent, key="k", endpoint="originate")

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                         **{"Idempotency-Key": "k"})

    assert response.status_code == 409
    assert response.json()["code"] == "request_in_progress"
    assert fake_ami.connection_count == 0


def test_a_malformed_idempotency_key_is_400(agent_client, agent_phone, fake_ami):
    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"},
                         **{"Idempotency-Key": "x" * 101})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert fake_ami.connection_count == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicates_dial_once(agent, agent_phone, fake_ami):
    clients = []
    for _ in range(4):  # logged in up front: only the clicks race
        client = Client()
        client.force_login(agent)
        clients.append(client)
    barrier = threading.Barrier(len(clients), timeout=10)
    answers, crashes = [], []
    # SQLite's in-memory test database fails a second concurrent writer at once ("table is
    # locked") instead of making it wait, so there the clicks take turns; PostgreSQL and
    # MariaDB run them truly at once, against the unique constraint.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def click(client):
        try:
            barrier.wait()
            with turns:
                response = post_json(client, "call_originate", {"phone_number": "5551234567"},
                                     **{"Idempotency-Key": "double-click"})
            answers.append((response.status_code, response.json()))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            crashes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert crashes == []
    assert len(answers) == 4
    assert len(fake_ami.actions_named("Originate")) == 1
    assert Call.objects.count() == 1
    codes = sorted(status for status, _ in answers)
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}
    assert all(body.get("code") == "request_in_progress" for status, body in answers
               if status == 409)


@pytest.mark.parametrize("registration", ["Unreachable", None])
def test_it_refuses_a_transfer_to_a_phone_asterisk_cannot_reach(agent_client, agent_phone,
                                                                other_phone, fake_ami,
                                                                registration):
    # Asterisk would answer Success, fail Dial(PJSIP/1002) and hang the customer up.
    call = answered_call(fake_ami, agent_phone)
    if registration is None:
        fake_ami.endpoints["1002"] = fake_ami.endpoints["1002"][:3]  # no contact at all
    else:
        fake_ami.endpoints["1002"] = registered_endpoint("1002", registration)

    response = post_json(agent_client, "call_transfer", {"target": "1002"})

    assert response.status_code == 409
    assert response.json()["code"] == "target_unreachable"
    assert "nothing was transferred" in response.json()["error"]
    assert fake_ami.actions_named("BlindTransfer") == []
    call.refresh_from_db()
    assert call.is_live and call.transferred_to == ""


def test_without_a_campaign_the_servers_default_caller_id_is_sent(agent_client, agent_phone,
                                                                   fake_ami):
    agent_phone.server.default_caller_id = "+15550100200"
    agent_phone.server.save()

    response = post_json(agent_client, "call_originate", {"phone_number": "+15551234567"})

    assert response.status_code == 201
    assert fake_ami.actions_named("Originate")[0]["CallerID"] == "<+15550100200>"


def test_a_call_to_a_colleague_shows_the_phones_own_caller_id(agent_client, agent_phone,
                                                              other_phone, fake_ami):
    agent_phone.server.default_caller_id = "+15550100200"
    agent_phone.server.save()

    response = post_json(agent_client, "call_originate", {"phone_number": "1002"})

    assert response.status_code == 201
    assert fake_ami.actions_named("Originate")[0]["CallerID"] == '"Bob" <5550001>'


# --- the phone Asterisk must ring first (defect 5 of issue #12) ---
@pytest.mark.parametrize(("events", "code", "text"), [
    (unregistered_endpoint("1001"), "phone_not_registered", "not registered with Asterisk"),
    (registered_endpoint("1001", "Unreachable"), "phone_unreachable",
     "Asterisk cannot reach your phone right now"),
])
def test_it_refuses_to_dial_when_asterisk_cannot_ring_the_agents_phone(
        events, code, text, agent_client, agent_phone, fake_ami):
    # ps_contacts may still hold the phone's row: Asterisk's own view decides.
    add_contact("1001", expires=int(time.time()) + 3600)
    fake_ami.endpoints["1001"] = events

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == code and text in body["error"]
    assert fake_ami.actions_named("Originate") == []
    call = Call.objects.get(pk=body["call_id"])
    assert call.status == Call.Status.FAILED and text in call.error_message
    # One login for the check (and, had it passed, the Originate).
    assert fake_ami.login_count == 1


def test_a_phone_with_one_reachable_contact_of_two_is_dialled(agent_client, agent_phone,
                                                              fake_ami):
    reachable = registered_endpoint("1001")[-1]
    fake_ami.endpoints["1001"] = [*registered_endpoint("1001", "Unreachable"), reachable]

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 201
    assert len(fake_ami.actions_named("Originate")) == 1
    assert fake_ami.login_count == 1


def test_an_extension_asterisk_does_not_know_is_a_clear_502(agent_client, agent_phone,
                                                            fake_ami):
    del fake_ami.endpoints["1001"]

    response = post_json(agent_client, "call_originate", {"phone_number": "5551234567"})

    assert response.status_code == 502
    assert "Asterisk does not know extension 1001" in response.json()["error"]
    assert fake_ami.actions_named("Originate") == []
