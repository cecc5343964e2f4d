"""The ARI fake held to the running Asterisk (issue #14): customers called as the dialer calls
them (PJSIP through the carrier's trunk, into our Stasis application; the carrier is sipp's
carrier_mixed: ...100 answers, ...105 is busy, ...107 rings out), the answered one put in a
bridge and hung up by us. The Stasis frames Asterisk sends are compared with those the ARI fake
sends for the same calls: field names and JSON types (fakes/ari_frames.py), and each leg's
events in order. With RECORD_TRANSCRIPTS=<dir> the real frames are saved there as
ari_stasis_pjsip.txt (the copy in fakes/transcripts/ is what the unit test replays)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from telephony.asterisk.ari import AriClient, AriEvents
from telephony.dialer.worker import carrier_endpoint
from telephony.services.asterisk import ari_config_for
from telephony.tests.fakes.ari import SOFTHANGUP_EXPLICIT, FakeAriServer
from telephony.tests.fakes.ari_frames import (
    PJSIP_CALLS,
    disagreements,
    play_pjsip_calls,
    sequences,
)
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import carrier_on

pytestmark = pytest.mark.integration


class Stream:
    """Our application's event stream, read until a condition holds."""

    def __init__(self, pbx) -> None:
        self.events: list[dict] = []
        self._stream = AriEvents(ari_config_for(pbx.server))
        self._stream.connect()

    def until(self, done, *, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while not done(self.events):
            assert time.monotonic() < deadline, [
                (e["type"], (e.get("channel") or e.get("peer") or {}).get("id"))
                for e in self.events]
            event = self._stream.receive(timeout=0.2)
            if event is not None:
                self.events.append(event)
        return self.events

    def close(self) -> None:
        self._stream.close()


def has(kind: str, channel_id: str):
    return lambda events: any(e["type"] == kind and (e.get("channel") or {}).get("id")
                              == channel_id for e in events)


def test_the_fakes_stasis_frames_agree_with_the_running_asterisks_field_by_field(pbx):
    carrier = carrier_on(pbx, pbx.sipp_uas("carrier_mixed", address=CARRIER_ADDRESS))
    ids = {name: str(uuid.uuid4()) for name in PJSIP_CALLS}
    stream = Stream(pbx)
    try:
        with AriClient(ari_config_for(pbx.server)) as ari:
            # The calls of fakes/ari_frames.play_pjsip_calls, on the real Asterisk.
            ari.originate_to_app(endpoint=carrier_endpoint(carrier, PJSIP_CALLS["answered"]),
                                 channel_id=ids["answered"], timeout=5, app_args="customer")
            stream.until(has("StasisStart", ids["answered"]))
            ari.bridge_create(bridge_id="agent-frames", name="agent frames")
            ari.bridge_add_channel("agent-frames", ids["answered"])
            stream.until(has("ChannelEnteredBridge", ids["answered"]))
            ari.hangup(ids["answered"])
            stream.until(has("ChannelDestroyed", ids["answered"]))
            ari.originate_to_app(endpoint=carrier_endpoint(carrier, PJSIP_CALLS["busy"]),
                                 channel_id=ids["busy"], timeout=5)
            stream.until(has("ChannelDestroyed", ids["busy"]))
            ari.originate_to_app(endpoint=carrier_endpoint(carrier, PJSIP_CALLS["ring"]),
                                 channel_id=ids["ring"], timeout=2)
            stream.until(has("ChannelDestroyed", ids["ring"]))
            ari.bridge_destroy("agent-frames")
            real = stream.until(lambda evs: any(e["type"] == "BridgeDestroyed" for e in evs))
    finally:
        stream.close()
    directory = os.environ.get("RECORD_TRANSCRIPTS")
    if directory:
        Path(directory, "ari_stasis_pjsip.txt").write_text(
            "## PJSIP customers into Stasis via the trunk (sipp carrier_mixed): answered, "
            "bridged, hung up by us; busy; rung out (timeout 2)\n## EVENTS\n"
            + "".join(json.dumps(e) + "\n" for e in real))
    with FakeAriServer() as fake:
        fake_events = play_pjsip_calls(fake)

    assert disagreements(fake_events, real) == {}
    assert sequences(fake_events) == sequences(real, list(PJSIP_CALLS))
    by_leg = {(e["type"], e["channel"]["id"]): e for e in real
              if e["type"] in ("ChannelHangupRequest", "ChannelDestroyed")}
    # Our DELETE: a soft hang-up with Asterisk's flag as "cause", as the fake sends it.
    ours = by_leg[("ChannelHangupRequest", ids["answered"])]
    assert ours.get("soft") is True and ours["cause"] == SOFTHANGUP_EXPLICIT
    outcomes = {name: (by_leg[("ChannelDestroyed", ids[name])]["cause"],
                       by_leg[("ChannelDestroyed", ids[name])].get("tech_cause"))
                for name in PJSIP_CALLS}
    assert outcomes == {"answered": (16, None), "busy": (17, 486), "ring": (19, 480)}
