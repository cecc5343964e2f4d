"""handle_event moves a Call through its states from the events the fake AMI plays (the frames
of a real Asterisk 22), in order, duplicated or late; and the asterisk_events listener does it
end to end."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from telephony.asterisk.ami import AmiClient, listen_events
from telephony.management.commands.asterisk_events import listen
from telephony.models import AsteriskServer, Call
from telephony.services.call_events import CALL_ID_VARIABLE, event_wanted, handle_event
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import make_call, post_json
from telephony.tests.fakes import transcripts, wait_until
from telephony.tests.fakes.ami import FakeAmiServer

pytestmark = pytest.mark.django_db
Status = Call.Status


@contextmanager
def running(coro_factory) -> Iterator[None]:
    """Run an asyncio coroutine (given `stop`) in its own thread for the `with` block."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(coro_factory(stop),),
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
        # sync_to_async ran the ORM in asgiref's shared worker thread: close its connection,
        # or PostgreSQL refuses to drop the test database at the end of the run. From a thread
        # of our own: after a browser test, Playwright's event loop runs in this one.
        closer = threading.Thread(target=asyncio.run, args=(
            sync_to_async(connections.close_all, thread_sensitive=True)(),))
        closer.start()
        closer.join(timeout=10)


def record(fake: FakeAmiServer, **play: Any) -> list[dict[str, Any]]:
    """The events a listener receives while the fake plays one call."""
    events: list[dict[str, Any]] = []
    with running(lambda stop: listen_events(fake.config(timeout=1), events.append, stop=stop)):
        fake.wait_for_listeners()
        fake.play_call(**play)
        wait_until(lambda: any(e.get("Event") in ("Hangup", "OriginateResponse")
                               and e.get("Reason", "4") != "4" for e in events)
                   or sum(e.get("Event") == "Hangup" for e in events) >= 2
                   or (not play.get("hangup", True)
                       and any(e.get("Event") == "BridgeEnter"
                               and e.get("BridgeNumChannels") == "2" for e in events)))
    return [e for e in events if e.get("Event") != "FullyBooted"]


def play(fake, call: Call, **kwargs: Any) -> list[dict[str, Any]]:
    return record(fake, action_id=str(call.id), channel=f"PJSIP/{call.phone.extension}",
                  exten=call.number, variables={CALL_ID_VARIABLE: str(call.id)}, **kwargs)


def apply(server: AsteriskServer, events: list[dict[str, Any]], call: Call) -> Call:
    for event in events:
        handle_event(server, event)
    call.refresh_from_db()
    return call


def test_an_answered_call_goes_queued_ringing_answered_completed(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call)
    seen = []

    for event in events:
        handle_event(agent_phone.server, event)
        call.refresh_from_db()
        if not seen or seen[-1] != call.status:
            seen.append(call.status)

    assert seen == [Status.QUEUED, Status.RINGING, Status.ANSWERED, Status.COMPLETED]
    assert call.channel.startswith("PJSIP/1001-")
    assert call.peer_channel.startswith("PJSIP/carrier-")
    assert call.uniqueid and call.linkedid == call.uniqueid
    assert (call.hangup_cause, call.hangup_cause_text) == (16, "Normal Clearing")
    assert call.answered_at is not None and call.ended_at >= call.answered_at
    assert call.duration == int((call.ended_at - call.answered_at).total_seconds())


@pytest.mark.parametrize(("outcome", "status", "message"), [
    ("busy", Status.BUSY, "Your phone is busy"),
    ("no_answer", Status.NO_ANSWER, "Your phone did not answer"),
    ("failed", Status.FAILED, "Asterisk cannot reach your phone right now"),
    ("congestion", Status.FAILED, "Asterisk reported congestion calling your phone"),
])
def test_an_originate_that_fails_ends_the_call_with_the_reason(fake_ami, agent_phone, outcome,
                                                               status, message):
    call = make_call(agent_phone)

    call = apply(agent_phone.server, play(fake_ami, call, outcome=outcome), call)

    assert call.status == status
    assert call.error_message == message
    assert call.ended_at is not None and call.duration == 0


def test_the_originate_response_alone_moves_the_call_on(agent_phone):
    call = make_call(agent_phone)

    handle_event(agent_phone.server, {
        "Event": "OriginateResponse", "Privilege": "call,all", "ActionID": str(call.id),
        "Response": "Success", "Channel": "PJSIP/1001-00000001", "Context": "agents",
        "Exten": "+15551234567", "Reason": "4", "Uniqueid": "1795718447.9",
        "CallerIDNum": "5550005", "CallerIDName": "Queue Call"})

    call.refresh_from_db()
    assert call.status == Status.RINGING
    assert (call.channel, call.uniqueid) == ("PJSIP/1001-00000001", "1795718447.9")


def test_every_event_applied_twice_gives_the_same_log(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call)
    once = apply(agent_phone.server, events, make_call(agent_phone, number="+1"))
    # The same events for a second row would not match it: replay on the first one instead.
    call = apply(agent_phone.server, [e for event in events for e in (event, event)], call)

    assert call.status == Status.COMPLETED
    assert once.status == Status.QUEUED  # events carry their call's id, not just a phone
    assert call.duration is not None


def test_late_events_never_move_an_ended_call_back(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call)
    call = apply(agent_phone.server, events, call)
    ended = (call.status, call.ended_at, call.duration, call.hangup_cause)

    late = [e for e in events if e["Event"] in ("OriginateResponse", "Newstate", "DialBegin",
                                                "DialEnd", "BridgeEnter")]
    call = apply(agent_phone.server, late, call)

    assert (call.status, call.ended_at, call.duration, call.hangup_cause) == ended


def test_a_late_ringing_does_not_undo_an_answer(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    call = apply(agent_phone.server, events, call)
    assert call.status == Status.ANSWERED

    ringing = [e for e in events if e["Event"] == "Newstate" and e["ChannelState"] == "5"]
    call = apply(agent_phone.server, ringing, call)

    assert call.status == Status.ANSWERED


def before_answer(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events up to the far end answering: without its Up state, DialEnd and the bridge."""
    return [e for e in events if e["Event"] not in ("DialEnd", "BridgeEnter")
            and not (e["Event"] == "Newstate" and e["ChannelState"] == "6"
                     and e["Channel"].startswith("PJSIP/carrier"))]


def test_a_busy_number_ends_the_call_as_busy(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    # The phone answered and the number was dialled: the carrier says busy instead.
    call = apply(agent_phone.server, before_answer(events), call)
    dial_begin = next(e for e in events if e["Event"] == "DialBegin" and "Uniqueid" in e)
    dial_end = {**dial_begin, "Event": "DialEnd", "DialStatus": "BUSY"}

    call = apply(agent_phone.server, [dial_end], call)

    assert call.status == Status.BUSY
    assert call.answered_at is None and call.ended_at is not None


def test_the_far_end_hanging_up_busy_before_answer_says_busy(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    call = apply(agent_phone.server, before_answer(events), call)
    peer = next(e for e in events if e["Event"] == "Newchannel"
                and e["Channel"].startswith("PJSIP/carrier"))

    call = apply(agent_phone.server, [{**peer, "Event": "Hangup", "Cause": "17",
                                       "Cause-txt": "User busy"}], call)

    assert (call.status, call.hangup_cause_text) == (Status.BUSY, "User busy")


def test_the_agent_hanging_up_before_an_answer_is_cancelled(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    call = apply(agent_phone.server, before_answer(events), call)
    agent_leg = next(e for e in events if e["Event"] == "Newstate")

    call = apply(agent_phone.server, [{**agent_leg, "Event": "Hangup", "Cause": "16",
                                       "Cause-txt": "Normal Clearing"}], call)

    assert call.status == Status.CANCELLED and call.duration == 0


def test_a_blind_transfer_event_records_the_target(fake_ami, agent_phone):
    call = make_call(agent_phone)
    call = apply(agent_phone.server, play(fake_ami, call, hangup=False), call)

    handle_event(agent_phone.server, {
        "Event": "BlindTransfer", "Privilege": "call,all", "Result": "Success",
        "TransfererChannel": call.channel, "TransfererUniqueid": call.uniqueid,
        "TransfererLinkedid": call.linkedid, "TransfereeChannel": call.peer_channel,
        "IsExternal": "Yes", "Context": "agents", "Extension": "1002"})

    call.refresh_from_db()
    assert call.transferred_to == "1002"


def test_events_of_another_server_or_unknown_ids_are_ignored(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call)
    elsewhere = AsteriskServer.objects.create(
        name="other", host="10.0.0.2", ami_host="10.0.0.2", ami_username="a", ami_password="b",
        ari_host="10.0.0.2", ari_username="a", ari_password="b")

    assert [handle_event(elsewhere, event) for event in events] == [None] * len(events)
    for action_id in ("", "not-a-uuid", str(uuid.uuid4()), "x\r\ny"):
        assert handle_event(agent_phone.server, {"Event": "OriginateResponse",
                                                 "ActionID": action_id, "Reason": "0"}) is None
    assert handle_event(agent_phone.server, {"Event": "PeerStatus"}) is None
    call.refresh_from_db()
    assert call.status == Status.QUEUED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_listener_follows_a_call_from_the_api_to_its_end(agent, agent_phone, fake_ami):
    from django.test import Client

    fake_ami.play_originated_calls = True  # the whole event sequence, then both legs hang up
    client = Client()
    client.force_login(agent)

    with running(lambda stop: listen(stop, [agent_phone.server])):
        fake_ami.wait_for_listeners()
        response = post_json(client, "call_originate", {"phone_number": "5551234567"})
        call = Call.objects.get(pk=response.json()["call_id"])
        wait_until(lambda: Call.objects.get(pk=call.pk).status == Status.COMPLETED, 5)

        # Asterisk restarts: the listener logs in again and follows the next call too.
        fake_ami.restart(down_for=0.2)
        fake_ami.wait_for_listeners(timeout=5)
        second = post_json(client, "call_originate", {"phone_number": "5551234567"}).json()
        wait_until(lambda: Call.objects.get(pk=second["call_id"]).status == Status.COMPLETED, 5)

    call.refresh_from_db()
    assert call.answered_at and call.ended_at and call.peer_channel
    assert (call.hangup_cause, call.hangup_cause_text) == (16, "Normal Clearing")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_follows_servers_added_edited_or_deactivated_without_a_restart(fake_ami):
    def server_for(fake: FakeAmiServer, name: str) -> AsteriskServer:
        return AsteriskServer.objects.create(
            name=name, host="10.0.0.9", ami_host="127.0.0.1", ami_port=fake.port,
            ami_username="admin", ami_password="amipass", ari_host="127.0.0.1",
            ari_username="a", ari_password="b")

    first = server_for(fake_ami, "pbx-a")
    with FakeAmiServer() as second_fake, running(lambda stop: listen(stop, refresh=0.1)):
        fake_ami.wait_for_listeners()
        assert second_fake.listeners == 0

        second = server_for(second_fake, "pbx-b")  # added in the UI while the worker runs
        second_fake.wait_for_listeners(timeout=3)

        connections = fake_ami.connection_count
        first.ami_username = "changed"  # an edit restarts that server's listener...
        first.save()
        wait_until(lambda: fake_ami.connection_count > connections, 3)
        wait_until(lambda: fake_ami.listeners == 0, 3)  # ...which the fake now refuses

        second.is_active = False
        second.save()
        wait_until(lambda: second_fake.listeners == 0, 3)


def test_only_the_second_leg_entering_the_bridge_means_answered(fake_ami, agent_phone):
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    bridge = [e for e in events if e["Event"] == "BridgeEnter"]
    assert [e["BridgeNumChannels"] for e in bridge] == ["1", "2"]

    # Without DialEnd and the far end's Up state (each says answered on its own), as when
    # those events are missed.
    for event in [*before_answer(events[:events.index(bridge[1])]), bridge[0]]:
        handle_event(agent_phone.server, event)
    call.refresh_from_db()
    assert call.status == Status.RINGING  # the agent alone in the bridge: not answered yet

    handle_event(agent_phone.server, bridge[1])
    call.refresh_from_db()
    assert call.status == Status.ANSWERED and call.answered_at is not None


# --- the real transcripts of Asterisk 22.10.1, replayed ---
def replay(server, name: str, action_id: str, call: Call) -> Call:
    for event in transcripts.events(name, action_id=action_id, call_id=str(call.id)):
        handle_event(server, event)
        handle_event(server, event)  # twice: a reconnecting listener may see one again
    call.refresh_from_db()
    return call


def test_a_number_the_dialplan_answers_itself_is_answered_then_completed(agent_phone):
    # PJSIP/1001 picks up, then the realtime dialplan runs Answer, Playback, Wait(20), Hangup:
    # no far-end leg ever answers, yet the call was connected for 23 s.
    call = replay(agent_phone.server, "ami_originate_pjsip_1001.txt", "orig-pjsip-1001",
                  make_call(agent_phone, number="5551234"))

    assert call.status == Status.COMPLETED
    assert call.answered_at is not None
    assert (call.channel, call.uniqueid) == ("PJSIP/1001-00000001", "1795718447.9")
    assert call.hangup_cause == 16


def test_a_phone_that_is_not_there_fails_with_the_reason(agent_phone):
    call = replay(agent_phone.server, "ami_originate_fail.txt", "orig-fail-async",
                  make_call(agent_phone))

    assert call.status == Status.FAILED
    assert call.error_message == "Asterisk cannot reach your phone right now"


def test_a_registered_phone_that_does_not_answer_is_no_answer(agent_phone):
    call = replay(agent_phone.server, "ami_originate_fail.txt", "orig-unreachable-contact",
                  make_call(agent_phone))

    assert call.status == Status.NO_ANSWER
    assert call.answered_at is None and call.duration == 0


def test_the_listener_skips_dialplan_steps_that_answer_nothing():
    steps = [{"Event": "Newexten", "Application": app} for app in
             ("NoOp", "Set", "Playback", "Dial", "Wait", "Answer", "VoiceMail")]
    assert [event_wanted(step) for step in steps] == [False] * 5 + [True] * 2
    assert not event_wanted({"Event": "VarSet", "Variable": "RTPAUDIOQOS"})
    assert event_wanted({"Event": "VarSet", "Variable": CALL_ID_VARIABLE})
    assert not event_wanted({"Event": "RTCPSent"})


def test_the_far_end_going_up_alone_means_answered(fake_ami, agent_phone):
    # DialEnd and the bridge missed: the far end's Newstate Up still says it answered.
    call = make_call(agent_phone)
    events = play(fake_ami, call, hangup=False)
    peer_up = next(e for e in events if e["Event"] == "Newstate" and e["ChannelState"] == "6"
                   and e["Channel"].startswith("PJSIP/carrier"))

    call = apply(agent_phone.server, [*before_answer(events), peer_up], call)

    assert call.status == Status.ANSWERED


def test_hanging_up_the_agent_leg_ends_both_legs_and_completes_the_call(fake_ami,
                                                                       agent_phone):
    call = make_call(agent_phone)
    call = apply(agent_phone.server, play(fake_ami, call, hangup=False), call)
    assert call.status == Status.ANSWERED
    agent_leg, peer_leg = list(fake_ami.channels)

    events: list[dict[str, Any]] = []
    with running(lambda stop: listen_events(fake_ami.config(timeout=1), events.append,
                                            stop=stop)):
        fake_ami.wait_for_listeners()
        AmiClient(fake_ami.config(timeout=1)).hangup(channel=agent_leg)
        # As in ami_hangup.txt: the named leg, then its partner, both cause 16.
        wait_until(lambda: [e["Channel"] for e in events if e.get("Event") == "Hangup"]
                   == [agent_leg, peer_leg])

    call = apply(agent_phone.server, events, call)
    assert (call.status, call.hangup_cause) == (Status.COMPLETED, 16)
    assert fake_ami.channels == {}


def test_a_transfer_asterisk_then_failed_is_recorded_as_failed(agent_phone):
    """Replayed from a real Asterisk 22 (transcripts/ami_transfer_unreachable.txt): BlindTransfer
    answered Success, then Dial(PJSIP/7102) could not even start (the phone's contact was
    Unreachable) and Asterisk hung the customer up with cause 3."""
    from django.utils import timezone

    call = make_call(agent_phone, status=Call.Status.COMPLETED, channel="PJSIP/7101-00000000",
                     peer_channel="PJSIP/trunk-acme-00000001", uniqueid="1796157125.0",
                     linkedid="1796157125.0", answered_at=timezone.now(),
                     ended_at=timezone.now(), transferred_to="7102")
    for event in transcripts.events("ami_transfer_unreachable.txt", action_id="-",
                                    call_id=str(call.id)):
        handle_event(agent_phone.server, event)

    call.refresh_from_db()
    assert call.status == Call.Status.COMPLETED
    assert call.transfer_result == ("failed: No route to destination (3); the customer was "
                                    "hung up")


def test_a_transfer_the_target_answered_is_recorded_as_answered(agent_phone):
    from django.utils import timezone

    call = make_call(agent_phone, status=Call.Status.COMPLETED, channel="PJSIP/1001-00000001",
                     peer_channel="PJSIP/carrier-00000002", uniqueid="1.1", linkedid="1.1",
                     answered_at=timezone.now(), transferred_to="1002")
    handle_event(agent_phone.server, {
        "Event": "DialEnd", "Channel": "PJSIP/carrier-00000002", "Uniqueid": "1.2",
        "Linkedid": "1.1", "DestChannel": "PJSIP/1002-00000003", "DestUniqueid": "1.3",
        "DestLinkedid": "1.1", "DialStatus": "ANSWER"})
    handle_event(agent_phone.server, {
        "Event": "Hangup", "Channel": "PJSIP/carrier-00000002", "Uniqueid": "1.2",
        "Linkedid": "1.1", "Cause": "16", "Cause-txt": "Normal Clearing"})

    call.refresh_from_db()
    assert call.transfer_result == "answered"


# --- out-of-range fields (issue 11, item 6): clamp the field, keep the event -------------------

def test_an_originate_response_with_a_300_character_channel_still_moves_the_call(agent_phone):
    call = make_call(agent_phone)
    handle_event(agent_phone.server, {
        "Event": "OriginateResponse", "ActionID": str(call.id), "Response": "Success",
        "Channel": "PJSIP/1001-" + "x" * 300, "Reason": "4", "Uniqueid": "1" * 100})
    call.refresh_from_db()
    assert call.status == Status.RINGING
    assert call.channel == ("PJSIP/1001-" + "x" * 300)[:128]
    assert call.uniqueid == "1" * 64


@pytest.mark.parametrize("cause", ["99999", "-5", "128", "1e3", "", "16x"])
def test_a_hangup_with_an_impossible_cause_still_ends_the_answered_call(agent_phone, cause):
    call = make_call(agent_phone, status=Status.ANSWERED, channel="PJSIP/1001-00000001",
                     uniqueid="1795718447.9", linkedid="1795718447.9",
                     answered_at=timezone.now())
    handle_event(agent_phone.server, {
        "Event": "Hangup", "Channel": "PJSIP/1001-00000001", "Uniqueid": "1795718447.9",
        "Linkedid": "1795718447.9", "Cause": cause, "Cause-txt": "x" * 500})
    call.refresh_from_db()
    assert call.status == Status.COMPLETED
    assert call.hangup_cause is None
    assert len(call.hangup_cause_text) <= 80
