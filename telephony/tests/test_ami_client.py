"""AmiClient and listen_events against FakeAmiServer (a real TCP server speaking AMI frames)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from telephony.asterisk.ami import AmiClient, AmiError, listen_events
from telephony.tests.fakes import wait_until
from telephony.tests.fakes.ami import FakeAmiServer, closed_port, registered_endpoint
from telephony.tests.fakes.transcripts import HERE as TRANSCRIPTS


@pytest.fixture
def ami() -> Iterator[FakeAmiServer]:
    with FakeAmiServer() as server:
        yield server


@pytest.fixture
def client(ami: FakeAmiServer) -> AmiClient:
    return AmiClient(ami.config(timeout=1.0))


def names(ami: FakeAmiServer) -> list[str]:
    return [action["Action"] for action in ami.actions]


def test_it_logs_in_pings_and_logs_off(ami, client):
    assert client.ping()["Ping"] == "Pong"

    assert names(ami) == ["Login", "Ping", "Logoff"]
    login = ami.actions[0]
    assert (login["Username"], login["Secret"], login["Events"]) == ("admin", "amipass", "off")


def test_it_reads_the_asterisk_version_from_core_settings(client):
    settings = client.core_settings()

    assert settings["AsteriskVersion"] == "22.10.1"
    assert settings["AMIversion"] == "11.0.0"


def test_it_runs_several_actions_on_one_login(ami, client):
    with client.session() as session:
        session.ping()
        session.core_settings()
        session.command("odbc show")

    assert names(ami) == ["Login", "Ping", "CoreSettings", "Command", "Logoff"]


def test_it_sends_the_originate_frame_asterisk_expects(ami, client):
    call_id = str(uuid.uuid4())

    reply = client.originate(channel="PJSIP/1001", context="agents", exten="5551234",
                             caller_id='"Agent Lab" <5550001>',
                             variables={"DJANGO_CALL_ID": call_id, "AGENT_ID": "42"},
                             action_id=call_id)

    assert reply["Message"] == "Originate successfully queued"
    assert reply["ActionID"] == call_id
    assert ami.actions_named("Originate") == [{
        "Action": "Originate", "ActionID": call_id, "Async": "true",
        "CallerID": '"Agent Lab" <5550001>', "Channel": "PJSIP/1001", "Context": "agents",
        "Exten": "5551234", "Priority": "1", "Timeout": "30000",
        "Variable": [f"DJANGO_CALL_ID={call_id}", "AGENT_ID=42"],
    }]
    raw = ami.raw_actions[1]
    assert f"Variable: DJANGO_CALL_ID={call_id}\r\nVariable: AGENT_ID=42\r\n".encode() in raw


def test_it_leaves_out_caller_id_and_variables_when_not_given(ami, client):
    client.originate(channel="PJSIP/1001", context="agents", exten="100", action_id="call-1")

    sent = ami.actions_named("Originate")[0]
    assert "CallerID" not in sent and "Variable" not in sent
    assert sent["Async"] == "true"


def test_it_sends_a_non_ascii_caller_id_as_utf8(ami, client):
    client.originate(channel="PJSIP/1001", context="agents", exten="100",
                     caller_id='"José Müller" <5550001>', action_id="call-1")

    assert ami.actions_named("Originate")[0]["CallerID"] == '"José Müller" <5550001>'


def test_it_returns_from_originate_before_the_call_outcome_is_known(ami, client):
    ami.originate_response_delay = 2.0

    started = time.monotonic()
    client.originate(channel="PJSIP/1001", context="agents", exten="100", action_id="call-1")

    assert time.monotonic() - started < 1.0


def test_it_raises_when_asterisk_refuses_an_originate(client):
    with pytest.raises(AmiError) as caught:
        client.originate(channel="", context="agents", exten="100", action_id="call-1")

    assert caught.value.kind == "action"
    assert caught.value.message == "Asterisk refused the action: Channel not specified"


def test_it_hangs_up_a_live_channel_with_normal_clearing(ami, client):
    ami.add_channel("PJSIP/1001-00000001")

    client.hangup(channel="PJSIP/1001-00000001")

    sent = ami.actions_named("Hangup")[0]
    assert (sent["Channel"], sent["Cause"]) == ("PJSIP/1001-00000001", "16")
    assert "PJSIP/1001-00000001" not in ami.channels


def test_it_hangs_up_every_channel_matching_a_regex(ami, client):
    ami.add_channel("PJSIP/1001-00000001")
    ami.add_channel("PJSIP/1001-00000002")
    ami.add_channel("PJSIP/1002-00000003")

    assert client.hangup(channel="/^PJSIP/1001-/") == 2
    assert set(ami.channels) == {"PJSIP/1002-00000003"}
    # Asterisk answers a regex with a list even when nothing matches: that is not an error.
    assert client.hangup(channel="/^PJSIP/1001-/") == 0


def test_it_reports_no_such_channel_on_hangup(client):
    with pytest.raises(AmiError) as caught:
        client.hangup(channel="PJSIP/1001-00000099")

    assert caught.value.kind == "action"
    assert caught.value.message == "Asterisk refused the action: No such channel"


def test_it_redirects_the_given_channel(ami, client):
    ami.add_channel("PJSIP/carrier-00000002")

    client.redirect(channel="PJSIP/carrier-00000002", context="agents", exten="700")

    sent = ami.actions_named("Redirect")[0]
    assert {k: sent[k] for k in ("Channel", "Context", "Exten", "Priority")} == {
        "Channel": "PJSIP/carrier-00000002", "Context": "agents", "Exten": "700",
        "Priority": "1"}


def test_it_reports_a_missing_channel_on_redirect(client):
    with pytest.raises(AmiError) as caught:
        client.redirect(channel="PJSIP/nope-00000000", context="agents", exten="700")

    assert caught.value.message == ("Asterisk refused the action: "
                                    "Channel does not exist: PJSIP/nope-00000000")


def test_it_blind_transfers_from_the_agents_own_channel(ami, client):
    ami.add_channel("PJSIP/1001-00000001")

    client.blind_transfer(channel="PJSIP/1001-00000001", context="agents", exten="2002")

    sent = ami.actions_named("BlindTransfer")[0]
    assert {k: sent[k] for k in ("Channel", "Context", "Exten")} == {
        "Channel": "PJSIP/1001-00000001", "Context": "agents", "Exten": "2002"}


def test_it_returns_cli_output_as_text(ami, client):
    ami.commands["module show like res_odbc"] = "Module  Description\nres_odbc.so  ODBC\n"

    assert client.command("module show like res_odbc") == "Module  Description\nres_odbc.so  ODBC"
    assert "Name:   asterisk" in client.command("odbc show")


def test_it_raises_the_cli_error_for_an_unknown_command(client):
    with pytest.raises(AmiError) as caught:
        client.command("odbc shw")

    assert caught.value.kind == "action"
    assert "No such command 'odbc shw'" in caught.value.message


def test_it_lists_the_details_of_a_pjsip_endpoint(client):
    events = client.pjsip_show_endpoint("1001")

    assert [e["Event"] for e in events] == [
        "EndpointDetail", "AuthDetail", "AorDetail", "ContactStatusDetail"]
    assert events[0]["Context"] == "agents"


def test_it_reports_an_unknown_pjsip_endpoint(client):
    with pytest.raises(AmiError) as caught:
        client.pjsip_show_endpoint("9999")

    assert caught.value.message == "Asterisk refused the action: Unable to retrieve endpoint 9999"


def test_it_rejects_a_wrong_password_at_once(ami):
    client = AmiClient(ami.config(secret="WRONG", timeout=1.0))

    started = time.monotonic()
    with pytest.raises(AmiError) as caught:
        client.ping()

    assert caught.value.kind == "auth"
    assert caught.value.message == "Asterisk refused the AMI username/password"
    assert time.monotonic() - started < 0.5
    assert names(ami) == ["Login"]


def test_it_reports_a_closed_port_as_unreachable_at_once(ami):
    client = AmiClient(ami.config(port=closed_port(), timeout=1.0))

    started = time.monotonic()
    with pytest.raises(AmiError) as caught:
        client.ping()

    assert caught.value.kind == "unreachable"
    assert "connection refused" in caught.value.message
    assert time.monotonic() - started < 0.5


def test_it_times_out_on_a_server_that_never_answers():
    with FakeAmiServer(black_hole=True) as ami:
        client = AmiClient(ami.config(timeout=1.0))

        started = time.monotonic()
        with pytest.raises(AmiError) as caught:
            client.ping()
        elapsed = time.monotonic() - started

    assert caught.value.kind == "timeout"
    assert caught.value.message == (f"Asterisk AMI at 127.0.0.1:{ami.port} "
                                    "did not answer within 1 s")
    assert 0.9 <= elapsed < 1.5


def test_it_reports_a_connection_dropped_mid_session(ami, client):
    with pytest.raises(AmiError) as caught, client.session() as session:
        ami.restart(down_for=0)
        session.ping()

    assert caught.value.kind == "unreachable"
    assert "closed the connection" in caught.value.message


# --- did the action leave us? (an Originate that may have been queued must not be retried) ---
def test_a_failure_before_the_action_was_written_is_not_maybe_sent(ami):
    with FakeAmiServer(black_hole=True) as hung:
        with pytest.raises(AmiError) as timed_out:
            AmiClient(hung.config(timeout=0.3)).ping()
    with pytest.raises(AmiError) as refused:
        AmiClient(ami.config(secret="WRONG", timeout=1.0)).ping()

    assert timed_out.value.kind == "timeout" and timed_out.value.maybe_sent is False
    assert refused.value.kind == "auth" and refused.value.maybe_sent is False


def test_an_originate_answered_too_late_is_maybe_sent(ami):
    ami.originate_ack_delay = 1.0
    client = AmiClient(ami.config(timeout=0.3))

    with pytest.raises(AmiError) as caught:
        client.originate(channel="PJSIP/1001", context="agents", exten="100",
                         action_id="late-1")

    assert caught.value.kind == "timeout" and caught.value.maybe_sent is True
    assert [a["ActionID"] for a in ami.actions_named("Originate")] == ["late-1"]


def test_an_action_refused_by_asterisk_is_not_maybe_sent(client):
    with pytest.raises(AmiError) as caught:
        client.hangup(channel="PJSIP/9999-00000001")

    assert caught.value.kind == "action" and caught.value.maybe_sent is False


INJECTIONS = [
    ("originate", {"channel": "PJSIP/1001\r\nAction: Hangup", "context": "agents",
                   "exten": "1", "action_id": "a"}),
    ("originate", {"channel": "PJSIP/1001", "context": "agents", "exten": "1",
                   "caller_id": "Eve\n<666>", "action_id": "a"}),
    ("originate", {"channel": "PJSIP/1001", "context": "agents", "exten": "1",
                   "variables": {"X": "1\r\n\r\nAction: Originate"}, "action_id": "a"}),
    ("originate", {"channel": "PJSIP/1001", "context": "agents", "exten": "1",
                   "variables": {"X\nY": "1"}, "action_id": "a"}),
    ("originate", {"channel": "PJSIP/1001", "context": "agents", "exten": "1",
                   "action_id": "a\r\n"}),
    ("hangup", {"channel": "PJSIP/1001\0"}),
    ("redirect", {"channel": "PJSIP/1001", "context": "agents\r", "exten": "700"}),
    ("blind_transfer", {"channel": "PJSIP/1001", "context": "agents", "exten": "7\n00"}),
    ("command", {"cmd": "core show version\r\nAction: Originate"}),
    ("pjsip_show_endpoint", {"name": "1001\n"}),
]


@pytest.mark.parametrize(("method", "kwargs"), INJECTIONS)
def test_it_refuses_line_breaks_before_connecting(ami, client, method, kwargs):
    with pytest.raises(AmiError) as caught:
        getattr(client, method)(**kwargs)

    assert caught.value.kind == "invalid"
    assert ami.connection_count == 0
    assert ami.received_bytes == b""


def test_it_refuses_line_breaks_in_a_session_without_sending_a_byte(ami, client):
    with client.session() as session:
        session.ping()
        before = ami.received_bytes
        with pytest.raises(AmiError) as caught:
            session.hangup(channel="PJSIP/1001\r\nAction: Originate")
        assert ami.received_bytes == before

    assert caught.value.kind == "invalid"
    assert names(ami) == ["Login", "Ping", "Logoff"]


def test_it_refuses_line_breaks_in_the_credentials(ami):
    client = AmiClient(ami.config(secret="x\r\nEvents: on"))

    with pytest.raises(AmiError) as caught:
        client.ping()

    assert caught.value.kind == "invalid"
    assert ami.connection_count == 0


# --- the event listener ---


class Listener:
    """listen_events() on its own loop in a thread, as the worker command will run it."""

    def __init__(self, config: Any, on_event: Any = None, **options: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self.connects = 0
        self._on_event = on_event or self.events.append
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete,
                                        args=(self._main(config, options),))

    async def _main(self, config: Any, options: dict[str, Any]) -> None:
        self._stop = asyncio.Event()
        await listen_events(config, self._on_event, stop=self._stop, backoff=(0.05, 0.1),
                            on_connect=self._connected, **options)

    def _connected(self) -> None:
        self.connects += 1

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("Event") == event]

    def __enter__(self) -> Listener:
        self._thread.start()
        wait_until(lambda: self._stop is not None)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=3)
        assert not self._thread.is_alive(), "listen_events did not return after stop"
        self._loop.close()


HANGUP = {"Event": "Hangup", "Privilege": "call,all", "Channel": "PJSIP/1001-00000001",
          "Uniqueid": "1795718447.9", "Linkedid": "1795718447.9", "Cause": "16",
          "Cause-txt": "Normal Clearing"}


def test_the_listener_passes_every_event_to_the_handler(ami):
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        ami.emit(HANGUP)
        wait_until(lambda: listener.named("Hangup"))

    assert listener.named("Hangup") == [HANGUP]
    assert ami.actions[0]["Events"] == "on"


def test_the_listener_logs_off_when_stopped(ami):
    with Listener(ami.config(timeout=1.0)):
        ami.wait_for_listeners(1)

    wait_until(lambda: ami.actions_named("Logoff"))


def test_the_listener_reconnects_after_asterisk_restarts(ami):
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        ami.restart(down_for=0.3)
        ami.wait_for_listeners(1)
        ami.emit(HANGUP)
        wait_until(lambda: listener.named("Hangup"))

    assert listener.connects == 2
    assert ami.login_count == 2


def test_the_listener_reconnects_when_asterisk_stops_answering_pings(ami):
    with Listener(ami.config(timeout=0.3), ping_interval=0.1) as listener:
        ami.wait_for_listeners(1)
        ami.black_hole = True  # the socket stays open, nothing answers: a hung or vanished host
        wait_until(lambda: ami.connection_count >= 2)
        ami.black_hole = False
        wait_until(lambda: listener.connects == 2)

    assert ami.actions_named("Ping")


def test_the_listener_keeps_trying_while_the_login_is_refused(ami):
    with Listener(ami.config(secret="WRONG", timeout=1.0)) as listener:
        wait_until(lambda: len(ami.actions_named("Login")) >= 3)

    assert listener.connects == 0


def test_the_listener_survives_a_handler_that_raises(ami):
    seen = []

    def handler(event):
        seen.append(event["Event"])
        if event["Event"] == "Newchannel":
            raise RuntimeError("bug in the state machine")

    with Listener(ami.config(timeout=1.0), on_event=handler):
        ami.wait_for_listeners(1)
        ami.emit({"Event": "Newchannel", "Channel": "PJSIP/1001-00000001"})
        ami.emit(HANGUP)
        wait_until(lambda: "Hangup" in seen)

    assert ami.login_count == 1


def test_the_listener_awaits_an_async_handler(ami):
    seen = []

    async def handler(event):
        await asyncio.sleep(0)
        seen.append(event["Event"])

    with Listener(ami.config(timeout=1.0), on_event=handler):
        ami.wait_for_listeners(1)
        ami.emit(HANGUP)
        wait_until(lambda: "Hangup" in seen)


def test_the_listener_gets_the_originate_outcome_with_our_action_id(ami, client):
    ami.originate_outcomes["PJSIP/9999"] = "failed"
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        client.originate(channel="PJSIP/1001", context="agents", exten="1", action_id="call-a")
        client.originate(channel="PJSIP/9999", context="agents", exten="1", action_id="call-b")
        wait_until(lambda: len(listener.named("OriginateResponse")) == 2)

    outcomes = {e["ActionID"]: (e["Response"], e["Reason"])
                for e in listener.named("OriginateResponse")}
    assert outcomes == {"call-a": ("Success", "4"), "call-b": ("Failure", "0")}


def test_the_fake_plays_a_whole_call_for_the_listener(ami, client):
    ami.play_originated_calls = True
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        client.originate(channel="PJSIP/1001", context="agents", exten="5551234",
                         variables={"DJANGO_CALL_ID": "call-c"}, action_id="call-c")
        wait_until(lambda: len(listener.named("Hangup")) == 2)

    calls = [e["Event"] for e in listener.events if e["Event"] != "FullyBooted"]
    assert calls == ["Newchannel", "VarSet", "DialBegin", "Newstate", "Newstate", "DialEnd",
                     "OriginateResponse", "Newchannel", "DialBegin", "Newstate", "Newstate",
                     "DialEnd", "BridgeEnter", "BridgeEnter", "Hangup", "Hangup"]
    # The dialled leg starts Down, rings, then answers, like the phone leg before it.
    assert [e["ChannelState"] for e in listener.named("Newstate")] == ["5", "6", "5", "6"]
    assert listener.named("VarSet")[0]["Value"] == "call-c"
    bridges = {e["BridgeUniqueid"] for e in listener.named("BridgeEnter")}
    assert len(bridges) == 1


def test_the_fake_plays_an_unanswered_call_hangup_first(ami):
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        ami.play_call(action_id="call-d", outcome="no_answer")
        wait_until(lambda: listener.named("OriginateResponse"))

    hangup, = listener.named("Hangup")
    assert (hangup["Cause"], hangup["Cause-txt"]) == ("19", "User alerting, no answer")
    assert listener.events.index(hangup) < listener.events.index(
        listener.named("OriginateResponse")[0])
    assert listener.named("OriginateResponse")[0]["Reason"] == "3"


def test_a_hangup_reaches_the_listener_as_a_hangup_event(ami, client):
    with Listener(ami.config(timeout=1.0)) as listener:
        ami.wait_for_listeners(1)
        phone_leg, = ami.play_call(action_id="call-e", outcome="answered", hangup=False)[:1]
        client.hangup(channel=phone_leg)
        wait_until(lambda: listener.named("Hangup"))

    hangup = listener.named("Hangup")[0]
    assert (hangup["Channel"], hangup["Cause"]) == (phone_leg, "16")


# --- contacts and device states (transcripts/ami_show_contacts.txt, ami_endpoint_in_use.txt) --
def test_it_lists_every_contact_with_its_qualify_status_in_one_action(ami, client):
    ami.endpoints = {"7101": registered_endpoint("7101", "Reachable", port=58200),
                     "7102": registered_endpoint("7102", "Unreachable", port=23877)}

    contacts = client.pjsip_show_contacts()

    assert [(c["Endpoint"], c["Status"], c["ViaPort"]) for c in contacts] == [
        ("7101", "Reachable", "58200"), ("7102", "Unreachable", "23877")]
    assert contacts[0]["Uri"] == "sip:7101@127.0.0.1:58200"
    assert names(ami) == ["Login", "PJSIPShowContacts", "Logoff"]


def test_no_contact_at_all_is_an_empty_list_not_an_error(ami, client):
    # Asterisk answers Response: Error / "No Contacts found" when nobody is registered.
    ami.endpoints = {}

    assert client.pjsip_show_contacts() == []


def test_it_reads_the_device_states_asterisk_has(ami, client):
    ami.device_states = {"PJSIP/7101": "INUSE", "PJSIP/trunk-acme": "INUSE"}

    assert client.device_states() == {"PJSIP/7101": "INUSE", "PJSIP/trunk-acme": "INUSE"}


def _replies(raw: str, action_id: str) -> list[list[tuple[str, str]]]:
    """The messages carrying `action_id` in AMI text, as (key, value) lists."""
    messages = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        pairs = [tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
                 for line in block.splitlines() if line and not line.startswith("### ")]
        if ("ActionID", action_id) in pairs and pairs[0][0] != "Action":  # not what we sent
            messages.append(pairs)
    return messages


def _fake_reply(ami: FakeAmiServer, action: str, action_id: str) -> str:
    with socket.create_connection((ami.host, ami.port), timeout=2) as sock:
        sock.sendall((f"Action: Login\r\nUsername: {ami.username}\r\nSecret: {ami.secret}\r\n"
                      f"Events: off\r\nActionID: rec-1\r\n\r\nAction: {action}\r\n"
                      f"ActionID: {action_id}\r\n\r\n").encode())
        received = b""
        while b"Complete" not in received and b"Response: Error" not in received[-200:]:
            received += sock.recv(65536)
        time.sleep(0.05)
    return received.decode()


@pytest.mark.parametrize(("endpoints", "action_id"), [
    # The recorded phones' ports.
    ({"7101": registered_endpoint("7101", "Reachable", port=42210),
      "7102": registered_endpoint("7102", "Unreachable", port=46087)}, "rec-2"),
    ({}, "rec-2"),
])
def test_the_fake_answers_pjsipshowcontacts_as_the_real_asterisk_did(ami, endpoints,
                                                                    action_id):
    recorded = (TRANSCRIPTS / "ami_show_contacts.txt").read_text()
    # The transcript holds two sessions: two contacts first, then none (after a restart).
    with_contacts, without = recorded.split("### >>> connect")[1:3]
    real = _replies(with_contacts if endpoints else without, action_id)
    ami.endpoints = endpoints

    fake = _replies(_fake_reply(ami, "PJSIPShowContacts", action_id), action_id)

    assert [[key for key, _ in m] for m in fake] == [[key for key, _ in m] for m in real]
    same = {"Response", "EventList", "Message", "Event", "ObjectType", "Endpoint", "Status",
            "ListItems", "ViaAddr", "ViaPort", "Uri", "UserAgent", "QualifyFrequency"}
    assert [[(k, v) for k, v in m if k in same] for m in fake] == [
        [(k, v) for k, v in m if k in same] for m in real]


def test_an_event_becomes_a_plain_dict_with_its_keys_as_asterisk_wrote_them():
    from panoramisk.message import Message

    from telephony.asterisk.ami import _as_dict

    message = Message({"Event": "ContactList", "ObjectName": "1001;@abc", "ViaPort": "5070"})
    message["content"] = ""  # panoramisk's pseudo-header
    assert _as_dict(message) == {"Event": "ContactList", "ObjectName": "1001;@abc",
                                 "ViaPort": "5070"}
    assert _as_dict(message) == {k: v for k, v in message.items() if k != "content"}
