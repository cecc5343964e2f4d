"""The ARI calls the dialer uses (originate into Stasis, bridges, playback) and the event
stream over ARI's WebSocket, against the in-process ARI fake."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from telephony.asterisk.ari import AriClient, AriError, AriEvents
from telephony.tests.fakes import wait_until
from telephony.tests.fakes.ari import FakeAriServer

CUSTOMER = "7b0c2c1e-0d5e-4a57-9a51-3d2f1f6c0001"


@pytest.fixture
def ari():
    with FakeAriServer() as fake:
        fake.endpoints[("PJSIP", "trunk")] = {"technology": "PJSIP", "resource": "trunk",
                                              "state": "online", "channel_ids": []}
        yield fake


@pytest.fixture
def events(ari):
    stream = AriEvents(ari.config(timeout=2))
    stream.connect()
    ari.wait_for_listener()
    yield stream
    stream.close()


def next_event(stream: AriEvents, kind: str) -> dict:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        event = stream.receive(timeout=0.5)
        if event and event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


def test_it_originates_into_our_application_with_our_channel_id(ari):
    with AriClient(ari.config(timeout=2)) as client:
        channel = client.originate_to_app(endpoint="PJSIP/5551234@trunk", channel_id=CUSTOMER,
                                          caller_id="Sales <5550100>", timeout=20,
                                          app_args="attempt")
    query = ari.requests[-1]["query"]
    assert channel["id"] == CUSTOMER
    assert query == {"endpoint": "PJSIP/5551234@trunk", "app": "autodialer",
                     "channelId": CUSTOMER, "timeout": "20", "appArgs": "attempt",
                     "callerId": "Sales <5550100>"}


def test_a_second_originate_with_the_same_id_is_refused(ari):
    with AriClient(ari.config(timeout=2)) as client:
        client.originate_to_app(endpoint="PJSIP/5551234@trunk", channel_id=CUSTOMER)
        with pytest.raises(AriError) as caught:
            client.originate_to_app(endpoint="PJSIP/5551234@trunk", channel_id=CUSTOMER)
    assert caught.value.status == 409
    assert "already exists" in caught.value.message
    assert len(ari.channels) == 1


def test_it_refuses_line_breaks_before_sending(ari):
    with AriClient(ari.config(timeout=2)) as client, pytest.raises(AriError) as caught:
        client.originate_to_app(endpoint="PJSIP/1\r\n@trunk", channel_id=CUSTOMER)
    assert caught.value.kind == "invalid"
    assert ari.requests == []


def test_an_answer_arrives_as_stasis_start_then_the_bridge_and_hangup_events(ari, events):
    with AriClient(ari.config(timeout=2)) as client:
        client.originate_to_app(endpoint="PJSIP/5551234@trunk", channel_id=CUSTOMER)
        ari.ring(CUSTOMER)
        assert next_event(events, "ChannelStateChange")["channel"]["state"] == "Ringing"
        ari.answer(CUSTOMER)
        start = next_event(events, "StasisStart")
        assert start["channel"]["id"] == CUSTOMER and start["channel"]["state"] == "Up"
        assert start["application"] == "autodialer" and "timestamp" in start
        bridge = client.bridge_create(bridge_id="agent-1001", name="agent 1001")
        assert bridge["id"] == "agent-1001" and bridge["bridge_type"] == "mixing"
        client.bridge_add_channel("agent-1001", CUSTOMER)
        entered = next_event(events, "ChannelEnteredBridge")
        assert entered["bridge"]["channels"] == [CUSTOMER]
        playback = client.play(CUSTOMER, "sound:vm-goodbye")
        assert playback["target_uri"] == f"channel:{CUSTOMER}"
        assert client.channel(CUSTOMER)["state"] == "Up"
        client.hangup(CUSTOMER)
        assert next_event(events, "StasisEnd")["channel"]["id"] == CUSTOMER
        destroyed = next_event(events, "ChannelDestroyed")
        assert (destroyed["cause"], destroyed["cause_txt"]) == (16, "Normal Clearing")
        with pytest.raises(AriError) as caught:
            client.channel(CUSTOMER)
    assert caught.value.status == 404


def test_a_channel_not_in_stasis_cannot_join_a_bridge(ari):
    with AriClient(ari.config(timeout=2)) as client:
        client.originate_to_app(endpoint="PJSIP/5551234@trunk", channel_id=CUSTOMER)
        client.bridge_create(bridge_id="agent-1001")
        with pytest.raises(AriError) as caught:
            client.bridge_add_channel("agent-1001", CUSTOMER)
    assert caught.value.status == 422


def test_the_event_stream_refuses_a_wrong_password(ari):
    with pytest.raises(AriError) as caught:
        AriEvents(ari.config(password="wrong", timeout=2)).connect()
    assert caught.value.kind == "auth"


def test_the_event_stream_names_a_refused_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeAriServer() as ari:
        config = ari.config(port=port, timeout=1)
    with pytest.raises(AriError) as caught:
        AriEvents(config).connect()
    assert caught.value.kind == "unreachable"
    assert "connection refused" in caught.value.message


def test_the_event_stream_connect_is_bounded_by_the_timeout():
    with FakeAriServer(black_hole=True) as ari:
        started = time.monotonic()
        with pytest.raises(AriError) as caught:
            AriEvents(ari.config(timeout=0.5)).connect()
        assert time.monotonic() - started < 2
    assert caught.value.kind == "timeout"


def test_follow_reconnects_and_says_so_after_the_stream_drops(ari):
    connects: list[float] = []
    errors: list[AriError] = []
    seen: list[str] = []
    stop = threading.Event()
    stream = AriEvents(ari.config(timeout=1), reconnect_delays=(0.05,))

    def run() -> None:
        for event in stream.follow(stop=stop.is_set, on_connect=lambda: connects.append(1),
                                   on_error=errors.append, poll=0.05):
            seen.append(event["type"])

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        ari.wait_for_listener()
        ari.emit({"type": "ChannelVarset", "variable": "X", "value": "1"})
        wait_until(lambda: seen == ["ChannelVarset"])
        ari.drop_listeners()
        wait_until(lambda: len(connects) == 2)
        ari.wait_for_listener()
        ari.emit({"type": "ChannelVarset", "variable": "X", "value": "2"})
        wait_until(lambda: seen == ["ChannelVarset", "ChannelVarset"])
    finally:
        stop.set()
        worker.join(3)
    assert not worker.is_alive()
    assert errors and errors[0].kind == "unreachable"
