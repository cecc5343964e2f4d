"""Calls the app did not start (defect 8 of issue #12): a softphone dialling, a colleague or a
carrier calling one of our extensions. The listener logs them as observed rows with their
direction, so the panel, the board and the "one live call" rule see them. Replayed from the
frames a real Asterisk 22.10.1 sent (transcripts/ami_softphone_dials_*.txt,
ami_carrier_calls_extension.txt)."""

from __future__ import annotations

import pytest

from telephony.models import Call, Phone
from telephony.services.call_events import handle_event
from telephony.services.call_reconcile import calls_reconcile
from telephony.services.live_board import AgentState, live_board
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import make_call, post_json
from telephony.tests.fakes import transcripts
from telephony.tests.fakes.ami import registered_endpoint

pytestmark = pytest.mark.django_db
Status = Call.Status


def recorded(name: str) -> list[dict]:
    return transcripts.events(name, action_id="-", call_id="-")


def replay(server, events) -> None:
    for event in events:
        handle_event(server, event)
        handle_event(server, event)  # twice: a reconnecting listener may see one again


def until_hangup(events) -> tuple[list[dict], list[dict]]:
    first = next(i for i, e in enumerate(events) if e.get("Event") == "HangupRequest")
    return events[:first], events[first:]


@pytest.fixture
def bob_7101(agent, server) -> Phone:
    return Phone.objects.create(extension="7101", name="Bob desk", server=server, user=agent)


@pytest.fixture
def carol_7102(other_agent, server) -> Phone:
    return Phone.objects.create(extension="7102", name="Carol desk", server=server,
                                user=other_agent)


def test_a_call_dialled_on_the_softphone_is_logged_outbound_and_followed(server, bob_7101,
                                                                         agent):
    talking, ending = until_hangup(recorded("ami_softphone_dials_carrier.txt"))

    replay(server, talking)

    call = Call.objects.get()
    assert call.observed and call.direction == Call.Direction.OUTBOUND
    assert (call.user, call.phone, call.number) == (agent, bob_7101, "+15551234567")
    assert call.status == Status.ANSWERED and call.answered_at is not None
    assert call.channel == "PJSIP/7101-00000000"
    assert call.peer_channel == "PJSIP/trunk-acme-00000001"
    rows = {row.user.username: row for row in live_board().rows}
    assert rows["bob"].state == AgentState.ON_CALL and rows["bob"].call == call

    replay(server, ending)

    call.refresh_from_db()
    assert call.status == Status.COMPLETED and call.hangup_cause == 16
    assert Call.objects.count() == 1


def test_a_call_between_two_extensions_gives_each_agent_an_internal_row(server, bob_7101,
                                                                        carol_7102):
    talking, ending = until_hangup(recorded("ami_softphone_dials_extension.txt"))

    replay(server, talking)

    bob, carol = (Call.objects.get(phone=bob_7101), Call.objects.get(phone=carol_7102))
    assert bob.direction == carol.direction == Call.Direction.INTERNAL
    assert bob.number == "7102" and carol.number == "7101"
    assert bob.status == carol.status == Status.ANSWERED
    assert carol.channel == "PJSIP/7102-00000003" and carol.peer_channel == bob.channel
    assert bob.linkedid == carol.linkedid == "1796168548.2"

    replay(server, ending)

    assert set(Call.objects.values_list("status", flat=True)) == {Status.COMPLETED}


def test_a_carrier_calling_an_extension_is_logged_inbound(server, bob_7101, agent):
    # A DID routed by from-trunk to Dial(PJSIP/7101,30), answered, the carrier hangs up.
    talking, ending = until_hangup(recorded("ami_carrier_calls_extension.txt"))

    replay(server, talking)

    call = Call.objects.get()
    assert call.observed and call.direction == Call.Direction.INBOUND
    assert (call.user, call.phone, call.number) == (agent, bob_7101, "+15557654321")
    assert call.status == Status.ANSWERED and call.answered_at is not None
    assert call.channel == "PJSIP/7101-00000001"
    assert call.peer_channel == "PJSIP/trunk-acme-00000000"
    assert call.linkedid == "1796181758.0"
    rows = {row.user.username: row for row in live_board().rows}
    assert rows["bob"].state == AgentState.ON_CALL and rows["bob"].call == call

    replay(server, ending)

    call.refresh_from_db()
    assert call.status == Status.COMPLETED and call.hangup_cause == 16
    assert Call.objects.count() == 1  # the trunk's leg is not one of our extensions


def test_a_carrier_call_the_extension_does_not_answer_is_logged_no_answer(server, bob_7101):
    # The frames of ami_carrier_calls_extension.txt, cut down, with the phone not answering.
    caller = {"Channel": "PJSIP/trunk-acme-00000010", "Uniqueid": "1796170000.16",
              "Linkedid": "1796170000.16", "CallerIDNum": "+15557654321",
              "Context": "from-trunk", "Exten": "+15550001111", "ChannelState": "4"}
    dest = {"DestChannel": "PJSIP/7101-00000011", "DestUniqueid": "1796170000.17",
            "DestLinkedid": "1796170000.16", "DestChannelState": "0",
            "DestContext": "agents", "DestExten": "+15550001111"}
    replay(server, [
        {"Event": "Newchannel", **caller},  # the carrier's INVITE: not one of our phones
        {"Event": "DialBegin", **caller, **dest, "DialString": "7101"},
        {"Event": "DialEnd", **caller, **dest, "DialStatus": "NOANSWER"},
        {"Event": "Hangup", "Channel": "PJSIP/7101-00000011", "Uniqueid": "1796170000.17",
         "Linkedid": "1796170000.16", "Cause": "19", "Cause-txt": "User alerting, no answer"},
    ])

    call = Call.objects.get()
    assert call.observed and call.direction == Call.Direction.INBOUND
    assert call.number == "+15557654321" and call.phone == bob_7101
    assert call.status == Status.NO_ANSWER and call.hangup_cause == 19


def test_a_call_the_app_originated_gets_no_second_row(agent_phone):
    call = make_call(agent_phone, number="5551234")
    for event in transcripts.events("ami_originate_pjsip_1001.txt",
                                    action_id="orig-pjsip-1001", call_id=str(call.id)):
        handle_event(agent_phone.server, event)

    assert list(Call.objects.values_list("id", "observed")) == [(call.id, False)]


def test_the_app_refuses_to_ring_a_phone_already_on_a_call_it_did_not_start(
        agent_client, agent_phone, fake_ami):
    talking, _ = until_hangup(recorded("ami_softphone_dials_carrier.txt"))
    replay(agent_phone.server, [
        {**e, **{k: v.replace("7101", "1001") for k, v in e.items()
                 if k in ("Channel", "DestChannel")}} for e in talking])
    assert Call.objects.get().observed

    response = post_json(agent_client, "call_originate", {"phone_number": "5559876543"})

    assert response.status_code == 409 and response.json()["code"] == "call_in_progress"
    assert fake_ami.actions_named("Originate") == []
    current = agent_client.get("/telephony/calls/current/").json()["call"]
    assert current["observed"] is True and current["direction"] == "outbound"
    assert current["status"] == "answered" and current["number"] == "+15551234567"


def test_a_phone_asterisk_reports_in_use_is_refused_even_unlogged(agent_client, agent_phone,
                                                                  fake_ami):
    # The listener was away when the call began: Asterisk's device state still tells.
    fake_ami.endpoints["1001"] = registered_endpoint("1001", device_state="In use",
                                                     active_channels=1)

    response = post_json(agent_client, "call_originate", {"phone_number": "5559876543"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "phone_busy" and "already on a call" in body["error"]
    assert fake_ami.actions_named("Originate") == []


def test_reconcile_ends_an_observed_call_whose_leg_is_gone_and_keeps_a_live_one(server,
                                                                                bob_7101):
    talking, _ = until_hangup(recorded("ami_softphone_dials_carrier.txt"))
    replay(server, talking)
    call = Call.objects.get()

    assert calls_reconcile(server=server, channels=[
        {"Channel": call.channel, "Uniqueid": call.uniqueid, "BridgeID": "b1"},
        {"Channel": call.peer_channel, "Uniqueid": "1796168541.1", "BridgeID": "b1"}]) == 0
    assert calls_reconcile(server=server, channels=[]) == 1

    call.refresh_from_db()
    assert call.status == Status.COMPLETED
