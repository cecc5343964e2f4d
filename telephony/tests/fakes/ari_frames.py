"""Compare ARI frames (events, REST answers) by their fields: each field as its path
(`channel.dialplan.priority`, `bridge.channels[]`) and JSON type. Used to hold the ARI fake to
what a real Asterisk sends (test_fake_ari_frames.py against a recording, the integration
suite's test_ari_frames.py against the running Asterisk).

    schemas = schemas_by_type(real_events)
    schemas["StasisStart"].disagreements(fake_event)   # [] when the fields agree

A frame may carry only fields the real frames of its kind carry, and must carry every field
those frames always carry; a field only some of them carry (ChannelHangupRequest's `soft`) is
optional.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from telephony.tests.fakes.ari import FakeAriServer


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


class Schema:
    """What the real frames of one kind carry: every field seen, and those always seen."""

    def __init__(self, frames: list[dict]) -> None:
        every = [fields(frame) for frame in frames]
        self.seen = set().union(*every)
        self.always = set.intersection(*every)

    def disagreements(self, frame: dict) -> list[str]:
        have = fields(frame)
        # An empty list has no item fields: `channels[]` is not "missing" from a bridge with
        # no channels, as in a ChannelLeftBridge.
        empty = {path for path, kind in have if kind == "array"
                 and not any(q.startswith(path + "[]") for q, _kind in have)}
        unknown = sorted(f"{p} ({k})" for p, k in have - self.seen)
        missing = sorted(f"{p} ({k})" for p, k in self.always - have
                         if not any(p.startswith(e + "[]") for e in empty))
        return ([f"not sent by Asterisk: {u}" for u in unknown]
                + [f"missing: {m}" for m in missing])


def schemas_by_type(events: list[dict]) -> dict[str, Schema]:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_type[event["type"]].append(event)
    return {kind: Schema(frames) for kind, frames in by_type.items()}


def disagreements(fake_events: list[dict], real_events: list[dict]) -> dict[str, list[str]]:
    """Each fake event whose fields disagree with the real events of its type (or whose type
    the real ones never had), with what is wrong."""
    schemas = schemas_by_type(real_events)
    wrong = {}
    for index, event in enumerate(fake_events):
        schema = schemas.get(event["type"])
        problems = (schema.disagreements(event) if schema
                    else ["Asterisk sent no event of this type"])
        if problems:
            wrong[f"{event['type']} #{index}"] = problems
    return wrong


def _settle(fake: FakeAriServer, count: int, timeout: float = 3.0) -> list[dict]:
    """The fake's events once it has sent `count` (some come from threads of their own)."""
    deadline = time.monotonic() + timeout
    while len(fake.events_sent) < count:
        assert time.monotonic() < deadline, [e["type"] for e in fake.events_sent]
        time.sleep(0.01)
    return list(fake.events_sent)


def _originate(fake: FakeAriServer, channel_id: str, exten: str, args: str = "") -> dict:
    status, body = fake.route("POST", "/ari/channels", {
        "endpoint": f"Local/{exten}@answer", "app": fake.app, "appArgs": args,
        "channelId": channel_id, "callerId": "Spring <5550100>"}, None)
    assert status == 200, body
    return body


def play_calls(fake: FakeAriServer) -> tuple[list[dict], dict[str, Any]]:
    """The calls of transcripts/ari_stasis_local.txt, played on the fake: an answered customer
    put in a bridge, played a sound and hung up by the far end ("answered"); one busy ("busy");
    one that rings out ("ring"); one answered and hung up by us ("ours"); the bridge
    destroyed. Returns the fake's events and its REST answers, by the transcript's labels."""
    answers = {"originate customer (answers after 1s)": _originate(
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
    _settle(fake, 6)  # ... ChannelEnteredBridge, PlaybackStarted, PlaybackFinished
    fake.remote_hangup("answered")

    answers["originate busy"] = _originate(fake, "busy", "busy")
    fake.remote_hangup("busy", cause=17, cause_txt="User busy")

    answers["originate ring with timeout 3"] = _originate(fake, "ring", "ring")
    fake.ring("ring")
    fake.remote_hangup("ring", cause=19, cause_txt="User alerting, no answer")

    answers["originate then we hang up"] = _originate(fake, "ours", "s")
    fake.answer("ours")
    assert fake.route("DELETE", "/ari/channels/ours", {}, None)[0] == 204
    sent = len(fake.events_sent)
    assert fake.route("DELETE", "/ari/bridges/agent-test", {}, None)[0] == 204
    return _settle(fake, sent + 1), answers


TRUNK = "trunk-acme"
# The numbers of the integration suite's carrier_mixed sipp: answers, busy, rings out.
PJSIP_CALLS = {"answered": "+12125550100", "busy": "+12125550105", "ring": "+12125550107"}


def play_pjsip_calls(fake: FakeAriServer) -> list[dict]:
    """The calls of transcripts/ari_stasis_pjsip.txt (and of the integration suite's
    test_ari_frames.py), played on the fake: customers dialled through the trunk into our
    application; one answers, is put in a bridge and hung up by us ("answered"), one is busy
    ("busy"), one rings out ("ring"); the bridge destroyed. Returns the fake's events."""
    fake.endpoints[("PJSIP", TRUNK)] = {"technology": "PJSIP", "resource": TRUNK,
                                        "state": "online", "channel_ids": []}

    def originate(name: str, args: str = "") -> None:
        status, body = fake.route("POST", "/ari/channels", {
            "endpoint": f"PJSIP/{PJSIP_CALLS[name]}@{TRUNK}", "app": fake.app,
            "appArgs": args, "channelId": name}, None)
        assert status == 200, body

    originate("answered", "customer")
    fake.answer("answered")
    fake.route("POST", "/ari/bridges", {"type": "mixing", "bridgeId": "agent-frames",
                                        "name": "agent frames"}, None)
    assert fake.route("POST", "/ari/bridges/agent-frames/addChannel",
                      {"channel": "answered"}, None)[0] == 204
    _settle(fake, 5)  # Dial, ChannelStateChange, Dial, StasisStart, ChannelEnteredBridge
    assert fake.route("DELETE", "/ari/channels/answered", {}, None)[0] == 204
    originate("busy")
    fake.remote_hangup("busy", cause=17, cause_txt="User busy")
    originate("ring")
    fake.ring("ring")
    fake.remote_hangup("ring", cause=19, cause_txt="User alerting, no answer")
    sent = len(fake.events_sent)
    assert fake.route("DELETE", "/ari/bridges/agent-frames", {}, None)[0] == 204
    return _settle(fake, sent + 1)


# The numbers of the integration suite's carrier_amd sipp: a person, a machine (...8).
AMD_CALLS = {"human": ("+12125550201", "HUMAN", "HUMAN-800-800"),
             "machine": ("+12125550208", "MACHINE", "LONGGREETING-1500-1500")}


def play_amd_calls(fake: FakeAriServer) -> list[dict]:
    """The calls of transcripts/ari_stasis_amd.txt (and of the integration suite's
    test_dialer_amd.py), played on the fake: each customer answers into our application, is
    continued to the AMD context, comes back with the verdict and is hung up by us. Returns
    the fake's events."""
    fake.endpoints[("PJSIP", TRUNK)] = {"technology": "PJSIP", "resource": TRUNK,
                                        "state": "online", "channel_ids": []}
    for name, (number, status, cause) in AMD_CALLS.items():
        assert fake.route("POST", "/ari/channels", {
            "endpoint": f"PJSIP/{number}@{TRUNK}", "app": fake.app, "appArgs": "customer",
            "channelId": name}, None)[0] == 200
        fake.answer(name)
        assert fake.route("POST", f"/ari/channels/{name}/continue",
                          {"context": "autodialer-amd", "extension": "s", "priority": "1"},
                          None)[0] == 204
        fake.amd_verdict(name, status, cause)
        assert fake.route("DELETE", f"/ari/channels/{name}", {}, None)[0] == 204
    return list(fake.events_sent)


# transcripts/ari_stasis_amd_hangup.txt: two people who hang up (BYE) during AMD, one
# explicitly subscribed to: both still report their end (carrier_amd: ...9 hangs up).
AMD_HANGUPS = {"unsubscribed": "+12125550209", "subscribed": "+12125550219"}


def play_amd_hangups(fake: FakeAriServer) -> list[dict]:
    """The calls of transcripts/ari_stasis_amd_hangup.txt on the fake: each answers into our
    application and is continued to the AMD context (the second subscribed to first), then
    the far end hangs up during the analysis. Returns the fake's events."""
    fake.endpoints[("PJSIP", TRUNK)] = {"technology": "PJSIP", "resource": TRUNK,
                                        "state": "online", "channel_ids": []}
    for name, number in AMD_HANGUPS.items():
        assert fake.route("POST", "/ari/channels", {
            "endpoint": f"PJSIP/{number}@{TRUNK}", "app": fake.app, "appArgs": "customer",
            "channelId": name}, None)[0] == 200
        fake.answer(name)
        if name == "subscribed":
            assert fake.route("POST", f"/ari/applications/{fake.app}/subscription",
                              {"eventSource": f"channel:{name}"}, None)[0] == 200
        assert fake.route("POST", f"/ari/channels/{name}/continue",
                          {"context": "autodialer-amd"}, None)[0] == 204
        fake.remote_hangup(name)
    return list(fake.events_sent)


# Events the fake does not send: dialplan steps and channel variables (the dialer ignores them).
NOT_MODELLED = frozenset({"ChannelVarset", "ChannelDialplan", "ChannelCallerId",
                          "ChannelConnectedLine"})


def _leg(event: dict) -> str:
    return str((event.get("peer") if event["type"] == "Dial" else event.get("channel")
                or {}).get("id", ""))


def sequences(events: list[dict], names: list[str] | None = None) -> dict[str, list[str]]:
    """The event types each originated leg got, in order (runs of Dial and ChannelStateChange
    in either order, see _RACING), leaving out NOT_MODELLED and the ";2" halves of Local
    channels. Legs are named by `names` in the order they first appear
    (real ids are Asterisk's or random), or keep their ids."""
    found: dict[str, list[str]] = {}
    for event in events:
        leg = _leg(event)
        if not leg or ";" in leg or event["type"] in NOT_MODELLED:
            continue
        found.setdefault(leg, []).append(event["type"])
    found = {leg: _unordered_runs(kinds) for leg, kinds in found.items()}
    if names is None:
        return found
    assert len(found) == len(names), list(found)
    return dict(zip(names, found.values(), strict=True))


# Asterisk publishes a leg's Dial progress and its state changes on different topics: seen on
# the running Asterisk, Dial RINGING comes before or after ChannelStateChange Ringing from one
# call to the next. Runs of these are compared as sets.
_RACING = frozenset({"Dial", "ChannelStateChange"})


def _unordered_runs(kinds: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for kind in [*kinds, ""]:
        if kind in _RACING:
            run.append(kind)
            continue
        out += sorted(run)
        run = []
        if kind:
            out.append(kind)
    return out
