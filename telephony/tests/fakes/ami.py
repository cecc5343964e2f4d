"""An in-process AMI server speaking the frames a real Asterisk 22 sends.

Replies are copied from ../shared/asterisk/transcripts/ami_*.txt and transcripts/ (PJSIPShowContacts
and its "No Contacts found" error, DeviceStateList, PJSIPShowEndpoint's DeviceState and
ActiveChannels, recorded with integration/ami_recorder.py). Not in any transcript, so
written from Asterisk 22's source (main/manager.c, manager_bridges.c, cli.c, res_odbc.c) and
checked against it: the BlindTransfer replies, the Hangup of a /regex/ (a list answer),
Command outputs (shape as Asterisk 14+ sends them; `odbc show` and `module show` in the
formats of res_odbc.c and cli.c, other texts invented), BridgeEnter, Shutdown, "Permission
denied". Not modelled: BlindTransfer's "Transfer invalid" for a channel not in a bridge.

    with FakeAmiServer() as ami:
        client = AmiClient(ami.config(timeout=1))
        ...
        assert ami.actions_named("Originate")[0]["Async"] == "true"
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import threading
from typing import Any

from telephony.tests.fakes import wait_until

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
# OriginateResponse Response and Reason (Asterisk's AST_CONTROL_*), and the Hangup cause of the
# phone leg that goes with it.
OUTCOMES = {
    "answered": ("Success", "4", None),
    "failed": ("Failure", "0", None),
    "no_answer": ("Failure", "3", "19"),
    "busy": ("Failure", "5", "17"),
    "congestion": ("Failure", "8", "34"),
}
CAUSES = {"0": "Unknown", "16": "Normal Clearing", "17": "User busy",
          "19": "User alerting, no answer", "34": "Circuit/channel congestion"}
STATES = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}
DEFAULT_COMMANDS = {
    "core show version": "Asterisk 22.10.1 built by root @ lab on a x86_64 running Linux",
    "odbc show": ("\nODBC DSN Settings\n-----------------\n\n  Name:   asterisk\n"
                  "  DSN:    asterisk\n    Number of active connections: 1 (out of 1)\n"
                  "    Logging: Disabled\n"),
    "module show like res_odbc": (
        "Module                         Description                              Use Count  "
        "Status      Support Level\n"
        "res_odbc.so                    ODBC resource                            0          "
        "Running              core\n"
        "res_odbc_transaction.so        ODBC transaction resource                0          "
        "Running              core\n"
        "2 modules loaded\n"),
}
ENDPOINT_1001 = [  # a shortened ami_originate_pjsip_1001.txt PJSIPShowEndpoint reply
    {"Event": "EndpointDetail", "ObjectType": "endpoint", "ObjectName": "1001",
     "Context": "agents", "Aors": "1001", "Auth": "1001", "Transport": "transport-udp",
     "Allow": "(ulaw|alaw)", "DirectMedia": "false", "DeviceState": "Not in use",
     "ActiveChannels": "0"},
    {"Event": "AuthDetail", "ObjectType": "auth", "ObjectName": "1001", "Username": "1001",
     "AuthType": "userpass", "Password": "secret", "EndpointName": "1001"},
    {"Event": "AorDetail", "ObjectType": "aor", "ObjectName": "1001", "MaxContacts": "1",
     "RemoveExisting": "true", "Contacts": "1001/sip:1001@127.0.0.1:5070",
     "TotalContacts": "1", "ContactsRegistered": "1", "EndpointName": "1001"},
    {"Event": "ContactStatusDetail", "AOR": "1001", "URI": "sip:1001@127.0.0.1:5070",
     "Status": "NonQualified", "EndpointName": "1001"},
]


def registered_endpoint(extension: str, status: str = "Reachable", *,
                        user_agent: str = "autodialer-sipp-phone", address: str = "127.0.0.1",
                        port: int = 5070,
                        device_state: str = "Not in use",
                        active_channels: int = 0) -> list[dict[str, str]]:
    """PJSIPShowEndpoint events of an extension with one registered contact whose qualify
    status is `status` (transcripts/ami_unreachable_contact.txt and ami_endpoint_in_use.txt
    have the real, longer ones: "In use" and ActiveChannels 1 during a call)."""
    endpoint, auth, aor = ({**event, "ObjectName": extension, "EndpointName": extension}
                           for event in ENDPOINT_1001[:3])
    endpoint.update({"DeviceState": device_state, "ActiveChannels": str(active_channels)})
    return [endpoint, auth, aor, {
        "Event": "ContactStatusDetail", "AOR": extension,
        "URI": f"sip:{extension}@{address}:{port}", "UserAgent": user_agent,
        "RegExpire": "1796172136", "ViaAddress": f"{address}:{port}", "Status": status,
        "EndpointName": extension}]


def unregistered_endpoint(extension: str) -> list[dict[str, str]]:
    """PJSIPShowEndpoint of an extension Asterisk knows with no contact (not registered)."""
    return [{**event, "ObjectName": extension, "EndpointName": extension}
            for event in ENDPOINT_1001[:3]]


def contact_list(detail: dict[str, str]) -> dict[str, str]:
    """The ContactList event PJSIPShowContacts sends for a contact, in the key order of
    transcripts/ami_show_contacts.txt, from the ContactStatusDetail of the same contact."""
    extension = detail.get("EndpointName", detail.get("AOR", ""))
    address, _, port = detail.get("ViaAddress", "127.0.0.1:5070").partition(":")
    return {
        "Event": "ContactList", "ObjectType": "contact",
        "ObjectName": f"{extension};@a53db8963862d975a49e1c39bb27d8fb", "ViaAddr": address,
        "QualifyTimeout": "3.000000", "Qualify2xxOnly": "false", "CallId": "1-11460@127.0.0.1",
        "RegServer": "", "PruneOnBoot": "no", "Path": "", "Endpoint": extension,
        "ViaPort": port, "AuthenticateQualify": "no", "Uri": detail.get("URI", ""),
        "QualifyFrequency": "60", "UserAgent": detail.get("UserAgent", ""),
        "ExpirationTime": detail.get("RegExpire", "1796172067"), "OutboundProxy": "",
        "Status": detail.get("Status", "Unknown"),
        "RoundtripUsec": "896" if detail.get("Status") == "Reachable" else "N/A"}


def bridge_state(bridge_id: str, members: int) -> dict[str, str]:
    """The bridge fields of BridgeEnter (manager_bridges.c): the count includes the channel
    entering, so the first leg of a call reports 1 and the second 2."""
    return {"BridgeUniqueid": bridge_id, "BridgeType": "basic",
            "BridgeTechnology": "simple_bridge", "BridgeCreator": "", "BridgeName": "",
            "BridgeNumChannels": str(members), "BridgeVideoSourceMode": "none"}


def module_line(module: str, status: str = "Running", description: str = "Something",
                support: str = "core") -> str:
    """One line of `module show like`, as cli.c's handle_modlist prints it."""
    return f"{module:<30} {description:<40.40} {0:<10} {status:<11} {support:>13}\n"


def frame(pairs: list[tuple[str, Any]]) -> bytes:
    lines = []
    for key, value in pairs:
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {item}\r\n")
    return ("".join(lines) + "\r\n").encode()


def parse(raw: bytes) -> dict[str, Any]:
    """Headers of one message; a repeated header (Variable) becomes a list."""
    headers: dict[str, Any] = {}
    for line in raw.decode("utf8", "replace").split("\r\n"):
        key, _, value = line.partition(": ")
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        elif key:
            headers[key] = value
    return headers


def closed_port() -> int:
    """A local port nothing listens on: connecting gets 'connection refused' at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def snapshot(channel: dict[str, str], prefix: str = "") -> dict[str, str]:
    """The channel fields every call event carries (Dest-prefixed in DialBegin/DialEnd)."""
    fields = {
        "Channel": channel["Channel"], "ChannelState": channel["State"],
        "ChannelStateDesc": STATES[channel["State"]],
        "CallerIDNum": channel.get("CallerIDNum", "<unknown>"),
        "CallerIDName": channel.get("CallerIDName", "<unknown>"),
        "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>", "Language": "en",
        "AccountCode": "", "Context": channel["Context"], "Exten": channel["Exten"],
        "Priority": "1", "Uniqueid": channel["Uniqueid"], "Linkedid": channel["Linkedid"],
    }
    return {prefix + key: value for key, value in fields.items()}


class _Conn:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.logged_in = False
        self.events_on = False

    def send(self, pairs: list[tuple[str, Any]]) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(pairs))


class FakeAmiServer:
    def __init__(self, *, username: str = "admin", secret: str = "amipass",
                 black_hole: bool = False) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.username, self.secret = username, secret
        # Accept TCP and record every action, never answer. Settable at any time: True after a
        # login makes a connection that hangs, like a frozen or vanished host.
        self.black_hole = black_hole
        # A host that freezes right after answering the Login: later actions are recorded and
        # never answered (black_hole turns on by itself).
        self.freeze_after_login = False
        # Actions (lower case) on which the connection drops without an answer, as when the
        # host or the network goes away while Asterisk handles the request.
        self.drop_on_actions: set[str] = set()
        self.default_outcome = "answered"
        self.originate_outcomes: dict[str, str] = {}  # Channel -> key of OUTCOMES, or "silent"
        self.originate_response_delay = 0.05
        # Seconds before "Originate successfully queued" (an overloaded Asterisk); the call
        # itself still plays after originate_response_delay.
        self.originate_ack_delay = 0.0
        self.play_originated_calls = False  # full event sequence instead of OriginateResponse
        self.channels: dict[str, dict[str, str]] = {}  # live channels, for Hangup/Redirect
        self.commands = dict(DEFAULT_COMMANDS)
        # Actions (lower case) the AMI user lacks the write permission for (manager.conf).
        self.forbidden_actions: set[str] = set()
        # PJSIPShowEndpoint's events per endpoint; their ContactStatusDetail events are also
        # the contacts PJSIPShowContacts lists (one Asterisk, one picture).
        self.endpoints: dict[str, list[dict[str, str]]] = {"1001": ENDPOINT_1001}
        # Outbound registrations: name -> Status, as PJSIPShowRegistrationsOutbound lists them
        # (transcripts/ami_outbound_registration.txt); modules ModuleLoad can reload.
        self.registrations: dict[str, str] = {}
        self.modules: set[str] = {"res_pjsip_outbound_registration.so", "res_pjsip.so"}
        # DeviceStateList: device ("PJSIP/1001") -> state ("INUSE").
        self.device_states: dict[str, str] = {}
        # Actions (lower case) that are recorded and never answered, and after which the host
        # freezes (black_hole turns on): "the Originate itself got no answer".
        self.freeze_on_actions: set[str] = set()
        self.actions: list[dict[str, Any]] = []  # every message received, parsed
        self.raw_actions: list[bytes] = []  # ...and as it arrived, terminator included
        self.received_bytes = b""
        self.connection_count = 0
        self.login_count = 0
        self._conns: set[_Conn] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-ami",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        self._later: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()  # calls being played, delayed hangups
        self._handlers: set[asyncio.Task[Any]] = set()  # one per connection

    # --- lifecycle ---
    def __enter__(self) -> FakeAmiServer:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._shutdown(notify=False))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def config(self, **overrides: Any) -> Any:
        from telephony.asterisk.ami import AmiConfig

        values = {"host": self.host, "port": self.port, "username": self.username,
                  "secret": self.secret, **overrides}
        return AmiConfig(**values)

    def restart(self, *, down_for: float = 0.3) -> None:
        """Like an Asterisk restart: Shutdown event, all sockets closed, port refused for a
        while, then listening again on the same port."""
        self._call(self._shutdown(notify=True))
        threading.Event().wait(down_for)
        self._call(self._listen())

    # --- driving and inspecting from tests (any thread) ---
    def emit(self, event: dict[str, Any]) -> None:
        """Send an event to every logged-in connection that has events on."""
        self._call(self._emit(event))

    def play_call(self, *, action_id: str = "", channel: str = "PJSIP/1001",
                  context: str = "agents", exten: str = "5551234",
                  variables: dict[str, str] | None = None, outcome: str = "answered",
                  trunk: str = "carrier", hangup: bool = True) -> list[str]:
        """Emit the events of one originated call to listeners; see _play. `outcome` is a key
        of OUTCOMES. Returns the channel names, e.g. to hang one up later."""
        return self._call(self._play(
            action_id=action_id, channel=channel, context=context, exten=exten,
            variables=variables, outcome=outcome, trunk=trunk, hangup=hangup))

    def add_channel(self, name: str, **fields: str) -> dict[str, str]:
        uid = f"1795718447.{next(self._ids)}"
        channel = {"Channel": name, "State": "6", "Context": "agents", "Exten": "s",
                   "Uniqueid": uid, "Linkedid": uid, **fields}
        self.channels[name] = channel
        return channel

    def actions_named(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [a for a in self.actions if a.get("Action", "").lower() == name.lower()]

    @property
    def listeners(self) -> int:
        """Logged-in connections with events on, i.e. those emit() reaches."""
        with self._lock:
            return sum(1 for c in self._conns if c.logged_in and c.events_on)

    def wait_for_listeners(self, count: int = 1, timeout: float = 3.0) -> None:
        wait_until(lambda: self.listeners >= count, timeout)

    # --- inside the loop ---
    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self, *, notify: bool) -> None:
        if notify:
            await self._emit({"Event": "Shutdown", "Privilege": "system,all",
                              "Shutdown": "Cleanly", "Restart": "True"})
        for handle in self._later:
            handle.cancel()
        self._later.clear()
        self._server.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._handlers.add(asyncio.current_task())
        with self._lock:
            self._conns.add(conn)
            self.connection_count += 1
        try:
            if not self.black_hole:
                writer.write(BANNER)
            buffer = b""
            while data := await reader.read(65536):
                with self._lock:
                    self.received_bytes += data
                buffer += data
                while b"\r\n\r\n" in buffer:
                    raw, buffer = buffer.split(b"\r\n\r\n", 1)
                    action = parse(raw)
                    with self._lock:
                        self.actions.append(action)
                        self.raw_actions.append(raw + b"\r\n\r\n")
                    name = action.get("Action", "").lower()
                    if self.black_hole:
                        pass
                    elif name in self.freeze_on_actions:
                        self.black_hole = True
                    elif name in self.drop_on_actions:
                        writer.close()
                    else:
                        self._reply(conn, action)
                        if name == "login" and self.freeze_after_login:
                            self.black_hole = True
                    await writer.drain()
                    if writer.is_closing():
                        return
        except ConnectionError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            self._handlers.discard(asyncio.current_task())
            writer.close()

    def _reply(self, conn: _Conn, action: dict[str, Any]) -> None:
        name = action.get("Action", "").lower()
        ids = [("ActionID", action["ActionID"])] if "ActionID" in action else []

        def respond(response: str, *pairs: tuple[str, Any]) -> None:
            conn.send([("Response", response), *ids, *pairs])

        if name == "login":
            if (action.get("Username"), action.get("Secret")) != (self.username, self.secret):
                respond("Error", ("Message", "Authentication failed"))
                conn.writer.close()
                return
            conn.logged_in, conn.events_on = True, action.get("Events", "on").lower() != "off"
            self.login_count += 1
            respond("Success", ("Message", "Authentication accepted"))
            if conn.events_on:
                conn.send([("Event", "FullyBooted"), ("Privilege", "system,all"),
                           ("Uptime", "74"), ("LastReload", "74"), ("Status", "Fully Booted")])
        elif not conn.logged_in or name in self.forbidden_actions:
            respond("Error", ("Message", "Permission denied"))
        elif name == "logoff":
            respond("Goodbye", ("Message", "Thanks for all the fish."))
            conn.writer.close()
        elif name == "ping":
            respond("Success", ("Ping", "Pong"), ("Timestamp", "1795718335.751068"))
        elif name == "events":
            conn.events_on = action.get("EventMask", "on").lower() != "off"
            respond("Success", ("Events", "On" if conn.events_on else "Off"))
        elif name == "coresettings":
            respond("Success", ("AMIversion", "11.0.0"), ("AsteriskVersion", "22.10.1"),
                    ("SystemName", ""), ("CoreMaxCalls", "0"), ("CoreRealTimeEnabled", "Yes"),
                    ("CoreCDRenabled", "No"), ("CoreHTTPenabled", "No"))
        elif name == "originate":
            self._originate(action, respond)
        elif name in ("hangup", "redirect", "blindtransfer"):
            self._channel_action(conn, name, action, respond)
        elif name == "command":
            # Asterisk 14+: one Output header per CLI line; a CLI failure is Response: Error.
            cmd = action.get("Command", "")
            output = self.commands.get(cmd, f"No such command '{cmd}' (type 'core show help "
                                            f"{cmd}' for other possible commands)\n")
            respond("Success" if cmd in self.commands else "Error",
                    ("Message", "Command output follows"), ("Output", output.split("\n")))
        elif name == "status":
            self._status(conn, action, respond, ids)
        elif name == "pjsipshowcontacts":
            self._list_reply(conn, respond, ids, [
                contact_list(event) for events in self.endpoints.values() for event in events
                if event.get("Event") == "ContactStatusDetail"],
                "A listing of Contacts follows, presented as ContactList events",
                "ContactListComplete", empty="No Contacts found")
        elif name == "devicestatelist":
            self._list_reply(conn, respond, ids, [
                {"Event": "DeviceStateChange", "Device": device, "State": state}
                for device, state in self.device_states.items()],
                "Device State Changes will follow", "DeviceStateListComplete")
        elif name == "pjsipshowendpoint":
            events = self.endpoints.get(action.get("Endpoint", ""))
            if events is None:
                respond("Error", ("Message", f"Unable to retrieve endpoint "
                                             f"{action.get('Endpoint', '')}"))
                return
            respond("Success", ("EventList", "start"), ("Message", "Following are Events "
                    "for each object associated with the Endpoint"))
            for event in events:
                conn.send([("Event", event["Event"]), *ids,
                           *[(k, v) for k, v in event.items() if k != "Event"]])
            conn.send([("Event", "EndpointDetailComplete"), *ids, ("EventList", "Complete"),
                       ("ListItems", str(len(events) + 1))])
        elif name == "moduleload":
            self._module_load(action, respond)
        elif name == "pjsipshowregistrationsoutbound":
            self._registrations(conn, respond, ids)
        else:
            respond("Error", ("Message", f"Invalid/unknown command: {action.get('Action')}. "
                                         "Use Action: ListCommands to show available commands."))

    def _module_load(self, action: dict[str, Any], respond: Any) -> None:
        """manager.c's ModuleLoad as transcripts/ami_outbound_registration.txt shows it."""
        if action.get("LoadType", "").lower() != "reload":
            respond("Error", ("Message", "Incomplete ModuleLoad action."))
        elif action.get("Module") in self.modules:
            respond("Success", ("Message", "Module reloaded."))
        else:
            respond("Error", ("Message", "Module not found."))

    def _registrations(self, conn: _Conn, respond: Any, ids: list) -> None:
        """PJSIPShowRegistrationsOutbound: a detail event per registration, each followed by
        its AuthDetail, then the Complete event with the Registered/NotRegistered counts."""
        respond("Success", ("EventList", "start"),
                ("Message", "Following are Events for each Outbound registration"))
        for name, status in self.registrations.items():
            conn.send([("Event", "OutboundRegistrationDetail"), *ids,
                       ("ObjectType", "registration"), ("ObjectName", name),
                       ("ServerUri", "sip:127.0.0.2:5060"), ("Endpoint", name),
                       ("OutboundAuth", name), ("Line", "true"), ("Status", status),
                       ("NextReg", "0")])
            conn.send([("Event", "AuthDetail"), *ids, ("ObjectType", "auth"),
                       ("ObjectName", name), ("AuthType", "userpass")])
        registered = sum(1 for status in self.registrations.values() if status == "Registered")
        conn.send([("Event", "OutboundRegistrationDetailComplete"), *ids,
                   ("EventList", "Complete"), ("ListItems", str(len(self.registrations))),
                   ("Registered", str(registered)),
                   ("NotRegistered", str(len(self.registrations) - registered))])

    def _list_reply(self, conn: _Conn, respond: Any, ids: list, events: list[dict[str, str]],
                    message: str, complete: str, *, empty: str | None = None) -> None:
        """A list action's answer as transcripts/ami_show_contacts.txt: the opening response,
        one event each, the closing event with ListItems; or Error `empty` for none."""
        if not events and empty:
            respond("Error", ("Message", empty))
            return
        respond("Success", ("EventList", "start"), ("Message", message))
        for event in events:
            conn.send([("Event", event["Event"]), *ids,
                       *[(k, v) for k, v in event.items() if k != "Event"]])
        conn.send([("Event", complete), *ids, ("EventList", "Complete"),
                   ("ListItems", str(len(events)))])

    def _status(self, conn: _Conn, action: dict[str, Any], respond: Any, ids: list) -> None:
        """Status as transcripts/ami_status_live_call.txt: one Status event per channel (newest
        first), each asked-for variable as `Variable: NAME=value` or `NAME=(null)`."""
        wanted = [v.strip() for v in action.get("Variables", "").split(",") if v.strip()]
        respond("Success", ("EventList", "start"), ("Message", "Channel status will follow"))
        channels = list(self.channels.values())[::-1]
        for channel in channels:
            variables = channel.get("Variables", {})
            conn.send([("Event", "Status"), ("Privilege", "Call"),
                       *snapshot(channel).items(), ("Type", channel["Channel"].split("/")[0]),
                       ("DNID", ""), ("TimeToHangup", "0"),
                       ("BridgeID", channel.get("BridgeID", "")),
                       ("Application", channel.get("Application", "")),
                       ("Data", ""), ("Seconds", "0"),
                       *[("Variable", f"{name}={variables.get(name, '(null)')}")
                         for name in wanted], *ids])
        conn.send([("Event", "StatusComplete"), *ids, ("EventList", "Complete"),
                   ("ListItems", str(len(channels))), ("Items", str(len(channels)))])

    def _originate(self, action: dict[str, Any], respond: Any) -> None:
        if not action.get("Channel"):
            respond("Error", ("Message", "Channel not specified"))
            return
        outcome = self.originate_outcomes.get(action["Channel"], self.default_outcome)
        if action.get("Async", "false").lower() not in ("true", "yes", "1", "on"):
            # A synchronous Originate answers only once the call is up or has failed.
            ok = outcome == "answered"
            self._after(self.originate_response_delay, lambda: respond(
                "Success" if ok else "Error",
                ("Message", "Originate successfully queued" if ok else "Originate failed")))
            return
        if self.originate_ack_delay:
            self._after(self.originate_ack_delay, lambda: respond(
                "Success", ("Message", "Originate successfully queued")))
        else:
            respond("Success", ("Message", "Originate successfully queued"))
        if outcome != "silent":
            variables = action.get("Variable", [])
            variables = dict(v.split("=", 1) for v in (
                variables if isinstance(variables, list) else [variables]))
            kwargs = {"action_id": action.get("ActionID", ""), "channel": action["Channel"],
                      "context": action.get("Context", ""), "exten": action.get("Exten", ""),
                      "variables": variables, "outcome": outcome,
                      "events": "all" if self.play_originated_calls else "response"}
            self._after(self.originate_response_delay, lambda: self._spawn(self._play(**kwargs)))

    def _channel_action(self, conn: _Conn, name: str, action: dict[str, Any],
                        respond: Any) -> None:
        wanted = action.get("Channel", "")
        if name == "hangup" and wanted.startswith("/") and wanted.endswith("/"):
            self._hangup_matching(conn, wanted[1:-1], action, respond)
            return
        channel = self.channels.get(wanted)
        if channel is None:
            respond("Error", ("Message", {
                "hangup": "No such channel",
                "redirect": f"Channel does not exist: {action.get('Channel', '')}",
                "blindtransfer": "Channel specified does not exist"}[name]))
        elif name == "hangup":
            respond("Success", ("Message", "Channel Hungup"))
            self._spawn(self._hangup_call(channel, action.get("Cause", "16")))
        elif name == "redirect":
            respond("Success", ("Message", "Redirect successful"))
        else:
            respond("Success", ("Message", "Transfer succeeded"))
            self._spawn(self._blind_transfer(channel, action))

    def _hangup_matching(self, conn: _Conn, pattern: str, action: dict[str, Any],
                         respond: Any) -> None:
        """Hangup with Channel: /regex/ (Asterisk's action_hangup): a list answer, one
        ChannelHungup event per matching channel, and the closing event even for none."""
        ids = [("ActionID", action["ActionID"])] if "ActionID" in action else []
        respond("Success", ("EventList", "start"), ("Message", "Channels hung up will follow"))
        matched = [c for name, c in list(self.channels.items()) if re.search(pattern, name)]
        for channel in matched:
            conn.send([("Event", "ChannelHungup"),
                                         ("Channel", channel["Channel"]), *ids])
            self._spawn(self._hangup_call(channel, action.get("Cause", "16")))
        conn.send([("Event", "ChannelsHungupListComplete"),
                                     ("EventList", "Complete"), ("ListItems", str(len(matched))),
                                     *ids])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _after(self, delay: float, callback: Any) -> None:
        handle = self._loop.call_later(delay, lambda: (self._later.discard(handle), callback()))
        self._later.add(handle)

    async def _emit(self, event: dict[str, Any]) -> None:
        data = frame(list(event.items()))
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            if conn.logged_in and conn.events_on and not conn.writer.is_closing():
                conn.writer.write(data)
                await conn.writer.drain()

    async def _hangup(self, channel: dict[str, str], cause: str, say: Any = None) -> None:
        self.channels.pop(channel["Channel"], None)
        await (say or self._emit)({
            "Event": "Hangup", "Privilege": "call,all", **snapshot(channel),
            "Cause": cause, "Cause-txt": CAUSES.get(cause, "Unknown")})

    def _partners(self, channel: dict[str, str]) -> list[dict[str, str]]:
        """The other legs of the call `channel` is in (one Linkedid ties them)."""
        linked = channel.get("Linkedid") or channel["Uniqueid"]
        return [other for other in list(self.channels.values()) if other is not channel
                and (other.get("Linkedid") or other["Uniqueid"]) == linked]

    async def _hangup_call(self, channel: dict[str, str], cause: str) -> None:
        """Hanging up one leg of a bridged call ends the other too (ami_hangup.txt: the named
        leg first, then its partner, both cause 16)."""
        partners = self._partners(channel)
        await self._hangup(channel, cause)
        for other in partners:
            await self._hangup(other, "16")

    async def _blind_transfer(self, transferer: dict[str, str], action: dict[str, Any]) -> None:
        """The BlindTransfer event (stasis_bridges.c blind_transfer_to_ami), then the
        transferer's leg leaves: its peer goes on to the target, and stays."""
        transferees = self._partners(transferer)
        transferee = snapshot(transferees[0], "Transferee") if transferees else {}
        await self._emit({
            "Event": "BlindTransfer", "Privilege": "call,all", "Result": "Success",
            **snapshot(transferer, "Transferer"), **transferee,
            **bridge_state(f"bridge-{transferer.get('Linkedid') or transferer['Uniqueid']}", 2),
            "IsExternal": "Yes", "Context": action.get("Context", ""),
            "Extension": action.get("Exten", "")})
        await self._hangup(transferer, "16")

    async def _play(self, *, action_id: str = "", channel: str = "PJSIP/1001",
                    context: str = "agents", exten: str = "5551234",
                    variables: dict[str, str] | None = None, outcome: str = "answered",
                    trunk: str = "carrier", hangup: bool = True,
                    events: str = "all") -> list[str]:
        """Events of ami_originate_pjsip_1001.txt: the phone rings and answers, then the dialplan
        dials `exten` on `trunk`, both legs enter one bridge, then both hang up. Our call UUID
        shows as the OriginateResponse ActionID and in VarSet events of `variables`.

        events="response" sends only the OriginateResponse (what most tests need); the phone
        leg of an answered call then stays in self.channels for Hangup/Redirect.
        Returns the channel names created ([phone leg, trunk leg] when answered).
        """
        response, reason, cause = OUTCOMES[outcome]
        say = self._emit if events == "all" else _ignore
        call = {"Privilege": "call,all"}
        names: list[str] = []
        result = {"Channel": channel, "Uniqueid": "<unknown>"}
        if outcome != "failed":  # "failed": Asterisk could not even create the channel
            agent = self.add_channel(f"{channel}-{next(self._ids):08x}", State="0",
                                     Context=context, Exten="s")
            agent["Variables"] = dict(variables or {})
            names.append(agent["Channel"])
            await say({"Event": "Newchannel", **call, **snapshot(agent)})
            for name, value in (variables or {}).items():
                await say({"Event": "VarSet", "Privilege": "dialplan,all", **snapshot(agent),
                           "Variable": name, "Value": value})
            await say({"Event": "DialBegin", **call, **snapshot(agent, "Dest"),
                       "DialString": channel.partition("/")[2]})
            agent["State"] = "5"
            await say({"Event": "Newstate", **call, **snapshot(agent)})
            if outcome == "answered":
                agent["State"] = "6"
                await say({"Event": "Newstate", **call, **snapshot(agent)})
                await say({"Event": "DialEnd", **call, **snapshot(agent, "Dest"),
                           "DialStatus": "ANSWER"})
                result = {"Channel": agent["Channel"], "Uniqueid": agent["Uniqueid"]}
            else:
                await self._hangup(agent, cause, say)
        await self._emit({
            "Event": "OriginateResponse", **call, "ActionID": action_id, "Response": response,
            "Channel": result["Channel"], "Context": context, "Exten": exten, "Reason": reason,
            "Uniqueid": result["Uniqueid"], "CallerIDNum": "<unknown>",
            "CallerIDName": "<unknown>"})
        if outcome != "answered" or events != "all":
            return names
        agent["Exten"] = exten
        # A dialled channel starts Down, rings, then goes Up (as the phone leg did above).
        peer = self.add_channel(f"PJSIP/{trunk}-{next(self._ids):08x}", State="0",
                                Context="from-trunk", Exten=exten, Linkedid=agent["Uniqueid"])
        names.append(peer["Channel"])
        await say({"Event": "Newchannel", **call, **snapshot(peer)})
        await say({"Event": "DialBegin", **call, **snapshot(agent), **snapshot(peer, "Dest"),
                   "DialString": f"{exten}@{trunk}"})
        for state in ("5", "6"):
            peer["State"] = state
            await say({"Event": "Newstate", **call, **snapshot(peer)})
        await say({"Event": "DialEnd", **call, **snapshot(agent), **snapshot(peer, "Dest"),
                   "DialStatus": "ANSWER"})
        for members, leg in enumerate((agent, peer), start=1):
            leg["BridgeID"] = f"bridge-{agent['Uniqueid']}"
            await say({"Event": "BridgeEnter", **call,
                       **bridge_state(f"bridge-{agent['Uniqueid']}", members), **snapshot(leg)})
        if hangup:
            for leg in (peer, agent):
                await self._hangup(leg, "16")
        return names


async def _ignore(event: dict[str, Any]) -> None:
    pass
