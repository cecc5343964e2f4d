"""Asterisk Manager Interface (AMI) client: the only module that imports panoramisk.

Pure Python (no Django) so views, services and workers can all call it.

* `AmiClient` is synchronous, for Django views and services. Each call connects, logs in
  (with events off), runs the action, logs off; `with client.session():` runs several actions
  on one login. A session never takes longer than `AmiConfig.timeout`.
* `listen_events()` is the async loop for the long-running worker: one login with events on,
  reconnecting with backoff for as long as it runs.

We use panoramisk's protocol (framing, parsing, ActionID matching) but not its `Manager`:
Manager reconnects forever on its own, and after a reconnect it re-sends every action that got
no answer, which for an Originate means dialling the customer twice. `_Connection` plays the
part Manager plays for `AMIProtocol`, without either behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.asterisk.errors import AsteriskError

logger = logging.getLogger(__name__)

_FORBIDDEN = ("\r", "\n", "\0")
_LOST = object()  # queued after the last event of a dropped connection
# PJSIPShowContacts' answer when no phone is registered: an error, not an empty list.
NO_CONTACTS = "No Contacts found"


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str
    timeout: float = 5.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class AmiError(AsteriskError):
    """kind: unreachable | auth | timeout | action | invalid; message: fit to show a user."""


def check_headers(headers: dict[str, Any]) -> None:
    """Refuse any CR, LF or NUL before a byte is sent.

    AMI is line based: a line break inside a value would end the header and let the rest of the
    value add headers or whole actions (a caller ID of "x\\r\\n\\r\\nAction: Originate...").
    """
    for key, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            text = f"{key}{item}"
            if any(char in text for char in _FORBIDDEN):
                raise AmiError("invalid", f"{key} must not contain line breaks")


def _as_dict(message: Message) -> dict[str, Any]:
    # panoramisk stores a `content` pseudo-header on every message; AMI never sends one.
    # Its case-insensitive dict keeps {lower key: (key, value)} in `_store`; reading that
    # directly is 5x faster than items() (a lookup per key), which matters for the lists of
    # hundreds of events the live board and the extensions list read on every request.
    store = getattr(message, "_store", None)
    if isinstance(store, dict):
        result = dict(store.values())
    else:  # another panoramisk version: the public, slower way
        result = dict(message.items())
    result.pop("content", None)
    return result


def _lines(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _raise_for_error(message: Message) -> dict[str, Any]:
    headers = _as_dict(message)
    if headers.get("Response") in ("Success", "Goodbye", "Follows"):
        return headers
    # A failed Command says only "Command output follows"; the reason is in its Output lines.
    reason = " ".join(_lines(headers.get("Output"))) or headers.get("Message") or "unknown error"
    raise AmiError("action", f"Asterisk refused the action: {reason.strip()}")


class _Protocol(AMIProtocol):
    """panoramisk's protocol, wired to our `_Connection` instead of its Manager."""

    def __init__(self, connection: _Connection) -> None:
        super().__init__()
        self._connection = connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.factory = self._connection
        # Manager would set this. Without it panoramisk encodes as ASCII, and an action with a
        # non-ASCII value (caller ID "José") is logged as an exception and never written.
        self.encoding = "utf8"


class _Connection:
    """One logged-in AMI connection. The attributes below are what AMIProtocol asks its factory."""

    save_stream = None
    forgetable_actions = ()

    def __init__(self, config: AmiConfig) -> None:
        self.config = config
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        # AMIProtocol parks unanswered actions here when the connection drops, for Manager to
        # re-send after reconnecting. We never re-send: an Originate could dial twice.
        self.awaiting_actions: list[Action] = []
        self.protocol: _Protocol | None = None
        self.lost: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    # --- called by AMIProtocol ---
    def dispatch(self, message: Message) -> None:
        self.events.put_nowait(_as_dict(message))

    def connection_lost(self, exc: object) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)
            self.events.put_nowait(_LOST)

    # --- ours ---
    @classmethod
    async def open(cls, config: AmiConfig, *, events: bool) -> _Connection:
        login = {"Action": "Login", "Username": config.username, "Secret": config.secret,
                 "Events": "on" if events else "off"}
        check_headers(login)
        conn = cls(config)
        loop = asyncio.get_running_loop()
        try:
            _, conn.protocol = await loop.create_connection(
                lambda: _Protocol(conn), config.host, config.port)
        except OSError as exc:
            if isinstance(exc, ConnectionRefusedError):
                reason = "connection refused"
            elif isinstance(exc, socket.gaierror):
                reason = "unknown host"
            else:
                reason = exc.strerror or str(exc)
            raise AmiError("unreachable",
                           f"Cannot reach Asterisk AMI at {config.address} ({reason})") from None
        try:
            response = await conn.send(login)
            if not response.success:
                raise AmiError("auth", "Asterisk refused the AMI username/password")
        except BaseException as exc:  # also on cancellation by a timeout: never leak the socket
            await conn.close(logoff_timeout=0)
            if isinstance(exc, AmiError):
                exc.maybe_sent = False  # only the Login left us, never the caller's action
            raise
        return conn

    async def send(self, headers: dict[str, Any], *, first_message_only: bool = False) -> Any:
        """Send one action; return its Message, or the list of Messages of a list action.

        first_message_only: resolve on Asterisk's first reply even if panoramisk would wait for
        more. panoramisk treats "Originate successfully queued" as the start of a list that the
        OriginateResponse event completes, i.e. when the call is answered or fails, up to the
        dial timeout later. Worse, our sessions log in with events off, so that event never
        comes to them at all. `as_list=False` is panoramisk's own switch for "one message".
        """
        if self.lost.done():
            raise AmiError("unreachable", f"Asterisk AMI at {self.config.address} "
                                          "closed the connection")
        action = Action(headers)
        future = self.protocol.send(action, as_list=False if first_message_only else None)
        # panoramisk never fails the future when the connection drops, so race it with `lost`.
        await asyncio.wait({future, self.lost}, return_when=asyncio.FIRST_COMPLETED)
        if future.done():
            return future.result()
        raise AmiError("unreachable", f"Asterisk AMI at {self.config.address} "
                                      "closed the connection", maybe_sent=True)

    def abort(self) -> None:
        self.connection_lost(None)
        if self.protocol is not None:
            self.protocol.close()

    async def close(self, *, logoff_timeout: float) -> None:
        if self.protocol is None:
            return
        if not self.lost.done() and logoff_timeout > 0:
            with contextlib.suppress(AmiError, TimeoutError):
                await asyncio.wait_for(self.send({"Action": "Logoff"}), logoff_timeout)
        self.protocol.close()
        await asyncio.sleep(0)  # let the transport close its socket before the loop may stop

    async def keepalive(self, interval: float) -> None:
        """Ping now and then: a dead peer (no FIN, e.g. a host power cut) is otherwise silent."""
        while not self.lost.done():
            await asyncio.sleep(interval)
            try:
                await asyncio.wait_for(self.send({"Action": "Ping"}), self.config.timeout)
            except (AmiError, TimeoutError):
                logger.warning("AMI at %s did not answer a keepalive Ping", self.config.address)
                self.abort()
                return


async def _within(awaitable: Awaitable[Any], seconds: float, config: AmiConfig) -> Any:
    try:
        return await asyncio.wait_for(awaitable, max(seconds, 0))
    except TimeoutError:
        raise AmiError("timeout", f"Asterisk AMI at {config.address} did not answer within "
                                  f"{config.timeout:g} s") from None


class _LoopThread:
    """A private event loop in its own thread.

    The sync API must work from any thread, including one that already runs an event loop
    (ASGI, the Playwright sync API in tests), where run_until_complete() would refuse to run.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ami", daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class AmiClient:
    """Synchronous AMI facade. Not thread-safe: one instance per request or task.

    Every method raises AmiError. Without an open session each call logs in and out on its own.
    """

    def __init__(self, config: AmiConfig) -> None:
        self.config = config
        self._conn: _Connection | None = None
        self._thread: _LoopThread | None = None
        self._deadline = 0.0

    @contextlib.contextmanager
    def session(self) -> Iterator[AmiClient]:
        """Run several actions on one login, all within config.timeout (Diagnose does this)."""
        if self._conn is not None:  # nested: reuse the open session
            yield self
            return
        thread = _LoopThread()
        self._deadline = time.monotonic() + self.config.timeout
        try:
            self._conn = thread.run(_within(
                _Connection.open(self.config, events=False), self._remaining(), self.config))
            self._thread = thread
            yield self
        finally:
            conn, self._conn, self._thread = self._conn, None, None
            if conn is not None:
                # The action's outcome is known by now: a failed logoff must not turn a
                # queued Originate into an error the caller might retry.
                thread.run(conn.close(logoff_timeout=min(max(self._remaining(), 0.1), 1.0)))
            thread.close()

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _send(self, headers: dict[str, Any], *, first_message_only: bool = False) -> Any:
        check_headers(headers)  # before connecting, so a bad value never reaches the wire
        with self.session():
            try:
                return self._thread.run(_within(
                    self._conn.send(headers, first_message_only=first_message_only),
                    self._remaining(), self.config))
            except AmiError as exc:
                # The action is written at once: a timeout now means only its answer is missing.
                exc.maybe_sent = exc.maybe_sent or exc.kind == "timeout"
                raise

    def ping(self) -> dict[str, Any]:
        return _raise_for_error(self._send({"Action": "Ping"}))

    def core_settings(self) -> dict[str, Any]:
        """Includes AsteriskVersion (e.g. "22.10.1") and AMIversion."""
        return _raise_for_error(self._send({"Action": "CoreSettings"}))

    def originate(self, *, channel: str, context: str, exten: str, priority: int = 1,
                  caller_id: str | None = None, timeout_ms: int = 30000,
                  variables: dict[str, str] | None = None, action_id: str) -> dict[str, Any]:
        """Queue a call and return as soon as Asterisk accepted it.

        The outcome arrives later, to event listeners, as an OriginateResponse event carrying
        `action_id` (pass the call's UUID) with Reason 4 answered, 0 failed, 3 no answer,
        5 busy, 8 congestion. Async is always sent: panoramisk 1.4 crashes its protocol on an
        Originate reply when the action has no Async key.

        A timeout or dropped connection after the action left us (AmiError.maybe_sent) does not
        prove the call was not queued: before retrying, look for an OriginateResponse (or channel
        events) carrying this action_id.
        """
        headers: dict[str, Any] = {
            "Action": "Originate", "ActionID": action_id, "Channel": channel,
            "Context": context, "Exten": exten, "Priority": str(priority),
            "Timeout": str(timeout_ms), "Async": "true",
        }
        if caller_id:
            headers["CallerID"] = caller_id
        if variables:
            for name in variables:
                if not name or "=" in name:
                    raise AmiError("invalid", f"Invalid channel variable name {name!r}")
            # panoramisk writes a list value as repeated lines: one Variable: NAME=value each.
            headers["Variable"] = [f"{name}={value}" for name, value in variables.items()]
        return _raise_for_error(self._send(headers, first_message_only=True))

    def hangup(self, *, channel: str, cause: int = 16) -> int:
        """Hang up `channel`, or every channel whose name matches `/regex/`; return how many.

        Cause 16 is Normal Clearing. A missing named channel raises AmiError("action"). A regex
        is answered as a list, "Channels hung up will follow" then one ChannelHungup event per
        channel and a closing event, also when nothing matched (Asterisk's action_hangup).
        """
        reply = self._send({"Action": "Hangup", "Channel": channel, "Cause": str(cause)})
        if not isinstance(reply, list):
            _raise_for_error(reply)
            return 1
        _raise_for_error(reply[0])
        return sum(1 for message in reply[1:] if message.get("Event") == "ChannelHungup")

    def blind_transfer(self, *, channel: str, context: str, exten: str) -> None:
        """`channel` is the transferer (the agent's own leg); its bridged peer is moved."""
        _raise_for_error(self._send({"Action": "BlindTransfer", "Channel": channel,
                                     "Context": context, "Exten": exten}))

    def redirect(self, *, channel: str, context: str, exten: str, priority: int = 1) -> None:
        """`channel` is the leg to move. Asterisk answers "Redirect successful" even for a
        context that does not exist (and then hangs up): validate the target first. Transfers
        use BlindTransfer today; the dialer will redirect answered customers to agents."""
        _raise_for_error(self._send({"Action": "Redirect", "Channel": channel,
                                     "Context": context, "Exten": exten,
                                     "Priority": str(priority)}))

    def command(self, cmd: str) -> str:
        """Run a CLI command ("odbc show", "module show like res_odbc"); return its output.

        Asterisk 14+ sends each output line as an `Output:` header. A CLI error (e.g. "No such
        command") raises AmiError("action") with the CLI's own text.
        """
        headers = _raise_for_error(self._send({"Action": "Command", "Command": cmd}))
        return "\n".join(_lines(headers.get("Output"))).strip("\n")

    def channels_status(self, *, variables: Sequence[str] = ()) -> list[dict[str, Any]]:
        """One `Status` event per channel Asterisk has now (Channel, ChannelState, Uniqueid,
        Linkedid, BridgeID, ...). Each name in `variables` comes back as a `Variable:
        NAME=value` line, `NAME=(null)` on a channel that does not have it (transcripts/
        ami_status_live_call.txt)."""
        headers: dict[str, Any] = {"Action": "Status"}
        if variables:
            headers["Variables"] = ",".join(variables)
        reply = self._send(headers)
        if isinstance(reply, Message):  # not a list: Asterisk refused
            _raise_for_error(reply)
            return []
        _raise_for_error(reply[0])
        return [_as_dict(m) for m in reply[1:] if m.get("Event") == "Status"]

    def endpoint_contacts(self, name: str) -> list[dict[str, Any]]:
        """The ContactStatusDetail events of PJSIPShowEndpoint: one per registered contact,
        with `URI` and `Status` (Reachable, Unreachable, NonQualified, Unknown; transcripts/
        ami_unreachable_contact.txt). An unknown endpoint raises AmiError("action")."""
        return [d for d in self.pjsip_show_endpoint(name)
                if d.get("Event") == "ContactStatusDetail"]

    def pjsip_show_endpoint(self, name: str) -> list[dict[str, Any]]:
        """The detail events (EndpointDetail, AuthDetail, AorDetail, ...), without the
        opening response and the closing EndpointDetailComplete."""
        reply = self._send({"Action": "PJSIPShowEndpoint", "Endpoint": name})
        if isinstance(reply, Message):  # not a list: Asterisk refused
            _raise_for_error(reply)
            return []
        _raise_for_error(reply[0])
        return [_as_dict(m) for m in reply[1:] if not m.get("Event", "").endswith("Complete")]

    # --- carriers (trunks): outbound registration and reachability ---------------------------
    def module_reload(self, module: str) -> None:
        """Reload one module (`ModuleLoad`, `LoadType: reload`; needs the `system` write
        permission). Asterisk answers "Module reloaded."; an unknown module is Response: Error
        "Module not found." (transcripts/ami_outbound_registration.txt)."""
        _raise_for_error(self._send({"Action": "ModuleLoad", "Module": module,
                                     "LoadType": "reload"}))

    def outbound_registrations(self) -> list[dict[str, Any]]:
        """The OutboundRegistrationDetail events of PJSIPShowRegistrationsOutbound, one per
        registration Asterisk knows (realtime rows too, before they are loaded), each with
        `ObjectName` and `Status` (Unregistered, Registered, Rejected, ...); the AuthDetail
        events between them and the closing event are left out."""
        reply = self._send({"Action": "PJSIPShowRegistrationsOutbound"})
        if isinstance(reply, Message):  # not a list: Asterisk refused
            _raise_for_error(reply)
            return []
        _raise_for_error(reply[0])
        return [_as_dict(m) for m in reply[1:]
                if m.get("Event") == "OutboundRegistrationDetail"]

    # --- phones: contacts and device states as Asterisk sees them -----------------------------
    def pjsip_show_contacts(self) -> list[dict[str, Any]]:
        """Every contact Asterisk has, as it sees them now: one ContactList event each, with
        `Endpoint`, `Uri`, `ViaAddr`/`ViaPort`, `UserAgent`, `ExpirationTime` and the qualify
        `Status` (Reachable, Unreachable, NonQualified, Unknown; transcripts/
        ami_show_contacts.txt). One action for all phones, so a page of any size is one round
        trip; the status lives in Asterisk's memory, not in ps_contacts."""
        reply = self._send({"Action": "PJSIPShowContacts"})
        if isinstance(reply, Message) and (reply.get("Message") or "").strip() == NO_CONTACTS:
            return []  # Asterisk answers an empty list with an error
        return self._list_events(reply, "ContactList")

    def device_states(self) -> dict[str, str]:
        """DeviceStateList: {device: state} for the devices Asterisk has a state for, e.g.
        {"PJSIP/7101": "INUSE"} (NOT_INUSE, INUSE, BUSY, RINGING, RINGINUSE, ONHOLD,
        UNAVAILABLE, INVALID, UNKNOWN; transcripts/ami_endpoint_in_use.txt). A device that never
        changed state since Asterisk started is not listed."""
        reply = self._send({"Action": "DeviceStateList"})
        return {str(event.get("Device", "")): str(event.get("State", ""))
                for event in self._list_events(reply, "DeviceStateChange")}

    @staticmethod
    def _list_events(reply: Any, event: str) -> list[dict[str, Any]]:
        """The `event` events of a list action's reply (its opening response and closing event
        left out); a refusal raises AmiError("action")."""
        if isinstance(reply, Message):  # not a list: Asterisk refused (or had nothing)
            _raise_for_error(reply)
            return []
        _raise_for_error(reply[0])
        return [_as_dict(m) for m in reply[1:] if m.get("Event") == event]


async def listen_events(
    config: AmiConfig,
    on_event: Callable[[dict[str, Any]], Any],
    *,
    stop: asyncio.Event,
    backoff: Sequence[float] = (1, 2, 5, 10, 30),
    ping_interval: float = 20.0,
    on_connect: Callable[[], Any] | None = None,
) -> None:
    """Call `on_event(headers)` for every AMI event until `stop` is set.

    Survives Asterisk restarts: when the login fails or the connection drops it waits
    backoff[0], backoff[1], ... (then the last value forever) and tries again; a successful
    login resets the sequence. `on_connect()` runs after each login, e.g. to reconcile calls
    that ended while disconnected. Either callback may be sync or async; they run on the event
    loop, so Django ORM code must be wrapped (asgiref's sync_to_async). An exception from a
    callback is logged and the listener carries on: one bad event must not stop the worker.

    Header values are strings; a header repeated in one event becomes a list of strings.
    """
    failures = 0
    while not stop.is_set():
        conn = None
        try:
            conn = await _within(_Connection.open(config, events=True), config.timeout, config)
            failures = 0
            logger.info("AMI event listener logged in to %s", config.address)
            if on_connect is not None:
                await _call(on_connect)
            await _pump(conn, on_event, stop, ping_interval)
        except AmiError as exc:
            if exc.kind == "invalid":  # bad settings: retrying cannot help
                raise
            logger.warning("AMI event listener: %s", exc.message)
        finally:
            if conn is not None:
                await conn.close(logoff_timeout=1.0 if stop.is_set() else 0)
        if stop.is_set():
            return
        delay = backoff[min(failures, len(backoff) - 1)]
        failures += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def _pump(conn: _Connection, on_event: Callable[[dict[str, Any]], Any],
                stop: asyncio.Event, ping_interval: float) -> None:
    pinger = asyncio.ensure_future(conn.keepalive(ping_interval))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while True:
            getter = asyncio.ensure_future(conn.events.get())
            await asyncio.wait({getter, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                return
            event = getter.result()
            if event is _LOST:
                raise AmiError("unreachable", f"Asterisk AMI at {conn.config.address} "
                                              "closed the connection")
            await _call(on_event, event)
    finally:
        pinger.cancel()
        stopped.cancel()


async def _call(callback: Callable[..., Any], *args: Any) -> None:
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("AMI event listener callback %r failed", callback)
