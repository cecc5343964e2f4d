"""AriClient against FakeAriServer (a real HTTP server answering like Asterisk's ARI)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from telephony.asterisk.ari import AriClient, AriError
from telephony.tests.fakes.ami import closed_port
from telephony.tests.fakes.ari import FakeAriServer


@pytest.fixture
def ari() -> Iterator[FakeAriServer]:
    with FakeAriServer() as server:
        yield server


@pytest.fixture
def client(ari: FakeAriServer) -> Iterator[AriClient]:
    with AriClient(ari.config(timeout=1.0)) as client:
        yield client


def test_it_reads_version_and_start_time_from_asterisk_info(ari, client):
    info = client.asterisk_info()

    assert info["system"]["version"] == "22.10.1"
    assert info["status"]["startup_time"] == "2026-11-26T18:38:16.051+0000"
    expected = "Basic " + base64.b64encode(b"asterisk:ari-pass").decode()
    assert ari.requests[0]["authorization"] == expected
    assert ari.requests[0]["path"] == "/ari/asterisk/info"


def test_it_lists_endpoints(client):
    assert client.endpoints() == [
        {"technology": "PJSIP", "resource": "1001", "state": "online", "channel_ids": []}]


def test_it_reads_one_endpoint(ari, client):
    assert client.endpoint("PJSIP", "1001")["state"] == "online"
    assert ari.requests[-1]["path"] == "/ari/endpoints/PJSIP/1001"


def test_it_originates_with_query_parameters_and_variables_in_the_body(ari, client):
    channel = client.originate(endpoint="PJSIP/1001", extension="5551234", context="agents",
                               caller_id="ARI Lab <5550006>", channel_id="call-1",
                               variables={"DJANGO_CALL_ID": "call-1"})

    assert channel["id"] == "call-1"
    assert channel["caller"] == {"name": "ARI Lab", "number": "5550006"}
    sent = ari.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/ari/channels")
    assert sent["query"] == {"endpoint": "PJSIP/1001", "extension": "5551234",
                             "context": "agents", "priority": "1", "timeout": "30",
                             "callerId": "ARI Lab <5550006>", "channelId": "call-1"}
    assert sent["body"] == {"variables": {"DJANGO_CALL_ID": "call-1"}}


def test_it_reports_an_unknown_endpoint_as_a_refused_action(client):
    with pytest.raises(AriError) as caught:
        client.originate(endpoint="PJSIP/9999", extension="5551234", context="agents")

    assert caught.value.kind == "action"
    assert caught.value.status == 500
    assert "PJSIP/9999" in caught.value.message


def test_it_hangs_up_a_channel(ari, client):
    ari.add_channel("1795718528.10")

    client.hangup("1795718528.10")

    assert ari.requests[-1]["method"] == "DELETE"
    assert ari.requests[-1]["query"] == {"reason": "normal"}
    assert ari.channels == {}


def test_it_reports_a_missing_channel_on_hangup(client):
    with pytest.raises(AriError) as caught:
        client.hangup("does-not-exist")

    assert (caught.value.kind, caught.value.status) == ("action", 404)
    assert caught.value.message == "Asterisk refused the action: Channel not found"


def test_it_keeps_a_slash_in_a_channel_id_inside_one_path_segment(ari, client):
    with pytest.raises(AriError):
        client.hangup("../asterisk/info")

    assert ari.requests[-1]["path"] == "/ari/channels/..%2Fasterisk%2Finfo"


def test_it_rejects_a_wrong_password(ari):
    with AriClient(ari.config(password="WRONG", timeout=1.0)) as client:
        with pytest.raises(AriError) as caught:
            client.asterisk_info()

    assert (caught.value.kind, caught.value.status) == ("auth", 401)
    assert caught.value.message == "Asterisk refused the ARI username/password"


def test_it_reports_a_closed_port_as_unreachable_at_once(ari):
    started = time.monotonic()
    with AriClient(ari.config(port=closed_port(), timeout=1.0)) as client:
        with pytest.raises(AriError) as caught:
            client.asterisk_info()

    assert caught.value.kind == "unreachable"
    assert "connection refused" in caught.value.message
    assert time.monotonic() - started < 0.5


def test_it_times_out_on_a_server_that_never_answers():
    with FakeAriServer(black_hole=True) as ari, AriClient(ari.config(timeout=1.0)) as client:
        started = time.monotonic()
        with pytest.raises(AriError) as caught:
            client.asterisk_info()
        elapsed = time.monotonic() - started

    assert caught.value.kind == "timeout"
    assert caught.value.message == (f"Asterisk ARI at 127.0.0.1:{ari.port} "
                                    "did not answer within 1 s")
    assert 0.9 <= elapsed < 1.5


@pytest.mark.parametrize("answer", ["short", "long"])
def test_one_deadline_covers_a_server_that_sends_a_byte_at_a_time(answer):
    # Each byte arrives well within the per-read timeout; the whole answer never would.
    with FakeAriServer() as ari, AriClient(ari.config(timeout=1.0)) as client:
        ari.trickle = 0.2
        if answer == "long":  # more bytes than any per-read buffer
            ari.info = {"system": {"version": "22.10.1" + " " * 5000}}
        started = time.monotonic()
        with pytest.raises(AriError) as caught:
            client.asterisk_info()
        elapsed = time.monotonic() - started

    assert caught.value.kind == "timeout"
    assert caught.value.message == (f"Asterisk ARI at 127.0.0.1:{ari.port} "
                                    "did not answer within 1 s")
    assert 0.9 <= elapsed < 1.6


def test_a_client_is_usable_again_after_a_deadline(ari):
    with AriClient(ari.config(timeout=1.0)) as client:
        ari.trickle = 0.2
        with pytest.raises(AriError):
            client.asterisk_info()
        ari.trickle = 0.0
        assert client.asterisk_info()["system"]["version"] == "22.10.1"


@pytest.mark.parametrize("kwargs", [
    {"endpoint": "PJSIP/1001\r\nX-Injected: 1"},
    {"caller_id": "Eve\n<666>"},
    {"variables": {"DJANGO_CALL_ID": "x\r\ny"}},
])
def test_it_refuses_line_breaks_before_sending(ari, client, kwargs):
    params = {"endpoint": "PJSIP/1001", "extension": "1", "context": "agents", **kwargs}

    with pytest.raises(AriError) as caught:
        client.originate(**params)

    assert caught.value.kind == "invalid"
    assert ari.requests == []
