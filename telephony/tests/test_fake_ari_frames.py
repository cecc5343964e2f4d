"""The ARI fake against a real Asterisk 22.10.1, field by field (issue #14): the Stasis events
and REST answers the fake sends for the calls of transcripts/ari_stasis_local.txt (answered and
bridged, a playback, hung up by the far end; busy; rung out; hung up by us) carry the same field
names, with the same JSON types, nested objects included, as the frames Asterisk sent.

A field is compared as its path (`channel.dialplan.priority`, `bridge.channels[]`) and type. A
fake frame may carry only fields the recorded frames of its type carry; it must carry every
field those frames always carry; a field only some of them carry (ChannelHangupRequest's
`soft`) is optional."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from telephony.tests.fakes.ari import SOFTHANGUP_EXPLICIT, FakeAriServer

TRANSCRIPT = Path(__file__).parent / "fakes" / "transcripts" / "ari_stasis_local.txt"
# The frames' envelope, the same on every event (Message, Event in ARI's model).
ENVELOPE = {"type", "timestamp", "asterisk_id", "application"}


def fields(value: Any, path: str = "") -> set[tuple[str, str]]:
    """(path, JSON type) of every field in `value`, recursively; list items as `path[]`."""
    if isinstance(value, dict):
        found = {(path, "object")} if path else set()
        for key, item in value.items():
            found |= fields(item, f"{path}.{key}" if path else key)
        return found
    if isinstance(value, list):
        found = {(path, "array")}
        for item in value:
            found |= fields(item, f"{path}[]")
        return found
    kind = {bool: "boolean", int: "number", float: "number", str: "string",
            type(None): "null"}[type(value)]
    return {(path, kind)}


def recorded() -> tuple[list[dict], dict[str, Any]]:
    """The recorded events, and the REST answers by label ("bridge create", ...)."""
    head, events = TRANSCRIPT.read_text().split("## EVENTS", 1)
    answers = {}
    for line in head.splitlines():
        label, _, answer = line.removeprefix("## ").partition(" -> ")
        if answer.startswith("{"):
            answers[label] = json.loads(answer)
    return [json.loads(line) for line in events.splitlines() if line.startswith("{")], answers


class Schema:
    """What the recorded frames of one kind carry: every field seen, and those always seen."""

    def __init__(self, frames: list[dict]) -> None:
        every = [fields(frame) for frame in frames]
        self.seen = set().union(*every)
        self.always = set.intersection(*every)

    def disagreements(self, frame: dict) -> list[str]:
        have = fields(frame)
        # An empty list has no item fields: `channels[]` is not "missing" from a bridge with
        # no channels, as in the recorded ChannelLeftBridge.
        empty = {path for path, kind in have if kind == "array"
                 and not any(q.startswith(path + "[]") for q, _kind in have)}
        unknown = sorted(f"{p} ({k})" for p, k in have - self.seen)
        missing = sorted(f"{p} ({k})" for p, k in self.always - have
                         if not any(p.startswith(e + "[]") for e in empty))
        return ([f"not sent by Asterisk: {u}" for u in unknown]
                + [f"missing: {m}" for m in missing])


def event_schemas() -> dict[str, Schema]:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for event in recorded()[0]:
        by_type[event["type"]].append(event)
    return {kind: Schema(frames) for kind, frames in by_type.items()}


def settle(fake: FakeAriServer, count: int, timeout: float = 3.0) -> list[dict]:
    """The fake's events once it has sent `count` (some come from threads of their own)."""
    deadline = time.monotonic() + timeout
    while len(fake.events_sent) < count:
        assert time.monotonic() < deadline, [e["type"] for e in fake.events_sent]
        time.sleep(0.01)
    return list(fake.events_sent)


def originate(fake: FakeAriServer, channel_id: str, exten: str, args: str = "") -> dict:
    status, body = fake.route("POST", "/ari/channels", {
        "endpoint": f"Local/{exten}@answer", "app": fake.app, "appArgs": args,
        "channelId": channel_id, "callerId": "Spring <5550100>"}, None)
    assert status == 200, body
    return body


@pytest.fixture
def played():
    """The recording's calls, played on the fake: (its events, its REST answers by label)."""
    with FakeAriServer() as fake:
        answers = {"originate customer (answers after 1s)": originate(
            fake, "answered", "s", "customer")}
        fake.answer("answered")
        _status, answers["bridge create"] = fake.route(
            "POST", "/ari/bridges", {"type": "mixing", "bridgeId": "agent-test",
                                     "name": "agent test"}, None)
        assert fake.route("POST", "/ari/bridges/agent-test/addChannel",
                          {"channel": "answered"}, None)[0] == 204
        _status, answers["play"] = fake.route("POST", "/ari/channels/answered/play",
                                              {"media": "sound:vm-goodbye"}, None)
        _status, answers["GET channel"] = fake.route("GET", "/ari/channels/answered", {}, None)
        settle(fake, 6)  # ... ChannelEnteredBridge, PlaybackStarted, PlaybackFinished
        fake.remote_hangup("answered")

        answers["originate busy"] = originate(fake, "busy", "busy")
        fake.remote_hangup("busy", cause=17, cause_txt="User busy")

        answers["originate ring with timeout 3"] = originate(fake, "ring", "ring")
        fake.ring("ring")
        fake.remote_hangup("ring", cause=19, cause_txt="User alerting, no answer")

        answers["originate then we hang up"] = originate(fake, "ours", "s")
        fake.answer("ours")
        assert fake.route("DELETE", "/ari/channels/ours", {}, None)[0] == 204
        sent = len(fake.events_sent)
        assert fake.route("DELETE", "/ari/bridges/agent-test", {}, None)[0] == 204
        yield settle(fake, sent + 1), answers


def test_every_stasis_event_the_fake_sends_has_the_recorded_fields_and_types(played):
    events, _answers = played
    schemas = event_schemas()

    unrecorded = sorted({e["type"] for e in events} - set(schemas))
    assert unrecorded == []  # the fake invents no event Asterisk did not send
    wrong = {f"{e['type']} #{i}": schemas[e["type"]].disagreements(e)
             for i, e in enumerate(events)}
    assert {name: problems for name, problems in wrong.items() if problems} == {}


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
