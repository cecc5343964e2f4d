"""The ARI fake against a real Asterisk 22.10.1, field by field (issue #14): the Stasis events
and REST answers the fake sends for the calls of transcripts/ari_stasis_local.txt (answered and
bridged, a playback, hung up by the far end; busy; rung out; hung up by us) carry the same field
names, with the same JSON types, nested objects included, as the frames Asterisk sent
(fakes/ari_frames.py says how frames are compared). The integration suite's test_ari_frames.py
holds the same fake to the PJSIP frames of the running Asterisk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from telephony.tests.fakes.ari import SOFTHANGUP_EXPLICIT, FakeAriServer
from telephony.tests.fakes.ari_frames import (
    AMD_CALLS,
    AMD_HANGUPS,
    PJSIP_CALLS,
    Schema,
    disagreements,
    play_amd_calls,
    play_amd_hangups,
    play_calls,
    play_pjsip_calls,
    sequences,
)

TRANSCRIPTS = Path(__file__).parent / "fakes" / "transcripts"
TRANSCRIPT = TRANSCRIPTS / "ari_stasis_local.txt"
# The frames' envelope, the same on every event (Message, Event in ARI's model).
ENVELOPE = {"type", "timestamp", "asterisk_id", "application"}


def recorded_pjsip(name: str = "ari_stasis_pjsip.txt") -> list[dict]:
    events = (TRANSCRIPTS / name).read_text().split("## EVENTS", 1)[1]
    return [json.loads(line) for line in events.splitlines() if line.startswith("{")]


def recorded() -> tuple[list[dict], dict[str, Any]]:
    """The recorded events, and the REST answers by label ("bridge create", ...)."""
    head, events = TRANSCRIPT.read_text().split("## EVENTS", 1)
    answers = {}
    for line in head.splitlines():
        label, _, answer = line.removeprefix("## ").partition(" -> ")
        if answer.startswith("{"):
            answers[label] = json.loads(answer)
    return [json.loads(line) for line in events.splitlines() if line.startswith("{")], answers


@pytest.fixture
def played():
    """The recording's calls, played on the fake: (its events, its REST answers by label)."""
    with FakeAriServer() as fake:
        yield play_calls(fake)


def test_every_stasis_event_the_fake_sends_has_the_recorded_fields_and_types(played):
    events, _answers = played

    assert disagreements(events, recorded()[0]) == {}


def test_each_call_gets_the_events_asterisk_sent_for_it_in_the_same_order(played):
    events, _answers = played
    # The recording's legs in order: answered, busy, rung out, hung up by us.
    real = sequences(recorded()[0], ["answered", "busy", "ring", "ours"])

    assert sequences(events) == real


def test_pjsip_trunk_calls_have_the_recorded_fields_types_and_order():
    # transcripts/ari_stasis_pjsip.txt: the customers of the integration suite's carrier,
    # dialled through PJSIP/<number>@trunk-acme as the dialer dials them.
    with FakeAriServer() as fake:
        events = play_pjsip_calls(fake)
    real = recorded_pjsip()

    assert disagreements(events, real) == {}
    assert sequences(events) == sequences(real, list(PJSIP_CALLS))
    destroyed = {e["channel"]["id"]: e for e in events if e["type"] == "ChannelDestroyed"}
    # A SIP failure's status is the trunk leg's tech_cause, as Asterisk reports it.
    assert (destroyed["busy"]["cause"], destroyed["busy"]["tech_cause"]) == (17, 486)
    assert (destroyed["ring"]["cause"], destroyed["ring"]["tech_cause"]) == (19, 480)
    assert "tech_cause" not in destroyed["answered"]
    assert destroyed["answered"]["channel"]["name"].startswith("PJSIP/trunk-acme-")


def test_the_fake_sends_the_events_the_dialer_follows(played):
    events, _answers = played
    # Those the dialer acts on (telephony/dialer/events.py) and those around a bridge.
    assert {"StasisStart", "ChannelStateChange", "Dial", "ChannelDestroyed",
            "ChannelEnteredBridge", "ChannelLeftBridge", "ChannelHangupRequest", "StasisEnd",
            "PlaybackStarted", "PlaybackFinished", "BridgeDestroyed"} <= {
        e["type"] for e in events}
    assert all(ENVELOPE <= set(e) for e in events)


def test_hang_up_requests_say_soft_only_for_our_own_hang_up_as_asterisk_does(played):
    events, _answers = played
    requests = {e["channel"]["id"]: e for e in events if e["type"] == "ChannelHangupRequest"}
    # Recorded: the far end hanging up gives {"cause": <Q.850>} without "soft"; DELETE
    # /channels gives {"cause": 32, "soft": true} (32 = AST_SOFTHANGUP_EXPLICIT, a flag).
    assert requests["answered"]["cause"] == 16 and "soft" not in requests["answered"]
    assert requests["ours"]["soft"] is True and requests["ours"]["cause"] == SOFTHANGUP_EXPLICIT
    real = [e for e in recorded()[0] if e["type"] == "ChannelHangupRequest"]
    assert {e.get("soft") for e in real} == {None, True}
    assert any(e["cause"] == SOFTHANGUP_EXPLICIT and e.get("soft") for e in real)


def test_a_destroyed_channel_keeps_its_last_state_as_asterisk_reports_it(played):
    events, _answers = played
    destroyed = {e["channel"]["id"]: e["channel"]["state"] for e in events
                 if e["type"] == "ChannelDestroyed"}
    assert destroyed == {"answered": "Up", "busy": "Down", "ring": "Ringing", "ours": "Up"}
    real = {e["channel"]["id"]: e["channel"]["state"] for e in recorded()[0]
            if e["type"] == "ChannelDestroyed" and ";" not in e["channel"]["id"]}
    assert sorted(real.values()) == sorted(destroyed.values())


@pytest.mark.parametrize("label", ["originate customer (answers after 1s)", "bridge create",
                                   "play", "GET channel", "originate busy",
                                   "originate ring with timeout 3", "originate then we hang up"])
def test_the_fakes_rest_answers_have_the_recorded_fields_and_types(played, label):
    _events, answers = played
    real = recorded()[1][label]

    assert Schema([real]).disagreements(answers[label]) == []


def test_amd_calls_leave_and_reenter_stasis_as_recorded():
    # transcripts/ari_stasis_amd.txt: customers continued to the AMD context and back, with
    # the verdict as StasisStart args (the integration suite's test_dialer_amd.py).
    with FakeAriServer() as fake:
        events = play_amd_calls(fake)
    real = recorded_pjsip("ari_stasis_amd.txt")

    assert disagreements(events, real) == {}
    assert sequences(events) == sequences(real, list(AMD_CALLS))
    verdicts = [e["args"] for e in real if e["type"] == "StasisStart" and e["args"][0] == "amd"]
    assert verdicts == [["amd", status, cause] for _number, status, cause in AMD_CALLS.values()]


def test_people_hanging_up_during_amd_report_their_end_as_recorded():
    # transcripts/ari_stasis_amd_hangup.txt: a BYE 0.5 s into AMD, one channel subscribed to
    # explicitly, one not: both report the end (originated into our application), causeless.
    with FakeAriServer() as fake:
        events = play_amd_hangups(fake)
    real = recorded_pjsip("ari_stasis_amd_hangup.txt")

    assert disagreements(events, real) == {}
    assert sequences(events) == sequences(real, list(AMD_HANGUPS))
    assert [e["cause"] for e in real if e["type"] == "ChannelDestroyed"] == [0, 0]


def test_an_unplugged_phone_is_reported_as_recorded():
    # transcripts/ari_phone_unplugged.txt: the integration suite's test_dialer_phone_lost.py.
    from telephony.asterisk.ari import AriClient

    head, _ = (TRANSCRIPTS / "ari_phone_unplugged.txt").read_text().split("## EVENTS", 1)
    real_app = json.loads(head.split("GET /applications/autodialer -> ", 1)[1].splitlines()[0])
    real = recorded_pjsip("ari_phone_unplugged.txt")
    with FakeAriServer() as fake:
        fake.endpoints[("PJSIP", "7501")] = {"technology": "PJSIP", "resource": "7501",
                                             "state": "online", "channel_ids": []}
        with AriClient(fake.config(timeout=1)) as client:
            fake.unplug("7501")  # not subscribed: nothing is sent
            assert fake.events_sent == []
            client.subscribe_endpoint("PJSIP", "7501")
        fake.unplug("7501")
        events = list(fake.events_sent)
        # The application as the subscription leaves it (what the POST answers).
        status, application = fake._subscribe("autodialer", "endpoint:PJSIP/7501")

    assert disagreements(events, real) == {}
    assert [(e["type"], e["endpoint"]["state"], e["contact_info"]["contact_status"])
            for e in events] == [(e["type"], e["endpoint"]["state"],
                                  e["contact_info"]["contact_status"]) for e in real]
    assert status == 200 and Schema([real_app]).disagreements(application) == []
    assert application["endpoint_ids"] == real_app["endpoint_ids"] == ["PJSIP/7501"]
