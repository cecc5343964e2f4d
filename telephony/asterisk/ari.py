"""Asterisk REST Interface (ARI) client: the only module that imports requests and websockets.

Pure Python (no Django). Every HTTP call has one deadline over connect and all reads (a server
that sends a byte every half second would never trip a per-read timeout), and raises AriError,
never a requests or websockets exception. `AriEvents` follows the application's events over
ARI's WebSocket (/ari/events), with a bounded connect and a reconnect.
"""

from __future__ import annotations

import base64
import json as jsonlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests
import websockets.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from websockets.sync.client import ClientConnection, connect

from telephony.asterisk.errors import AsteriskError

_FORBIDDEN = ("\r", "\n", "\0")


@dataclass(frozen=True)
class AriConfig:
    scheme: str  # "http" or "https"
    host: str
    port: int
    username: str
    password: str
    app: str  # the Stasis application name this project registers
    timeout: float = 5.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/ari"


class AriError(AsteriskError):
    """kind: unreachable | auth | timeout | action | invalid; status: the HTTP status, if any."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(kind, message)
        self.status = status


def _segment(value: str) -> str:
    """One URL path segment: "PJSIP/1001" as a resource must not become two segments."""
    _check(value=value)
    return quote(value, safe="")


def _check(**values: Any) -> None:
    for name, value in values.items():
        if value is not None and any(char in str(value) for char in _FORBIDDEN):
            raise AriError("invalid", f"{name} must not contain line breaks")


def _network_reason(exc: BaseException) -> str:
    """Dig the socket error out of requests -> urllib3 -> socket wrapping."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "unknown host"
        if isinstance(current, requests.exceptions.SSLError):
            return "TLS error"
        if isinstance(current, BaseException):
            todo += [current.__cause__, current.__context__, getattr(current, "reason", None),
                     *[a for a in current.args if isinstance(a, BaseException)]]
    return "network error"


class _Sockets:
    """The sockets of one client's connections, so a deadline can cut them mid-read."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def cut(self) -> None:
        # shutdown() wakes a recv() blocked in another thread; close() would not.
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _adapter(sockets: _Sockets) -> HTTPAdapter:
    class Connection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class TlsConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TlsConnection

    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}
    return adapter


class AriClient:
    def __init__(self, config: AriConfig) -> None:
        self.config = config
        self.session = requests.Session()
        self.session.auth = (config.username, config.password)
        self.session.headers["Accept"] = "application/json"
        self._sockets = _Sockets()
        adapter = _adapter(self._sockets)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AriClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 json: Any = None) -> requests.Response:
        timeout = self.config.timeout
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self._sockets.cut()

        # The deadline covers connecting, the headers and the whole body, however slowly
        # they arrive; the per-read timeouts only catch a silent server sooner.
        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = self.session.request(method, self.config.base_url + path, params=params,
                                            json=json, timeout=(timeout, timeout))
        except requests.exceptions.RequestException as exc:
            if expired.is_set() or isinstance(exc, requests.exceptions.Timeout):
                raise AriError("timeout", f"Asterisk ARI at {self.config.address} did not "
                                          f"answer within {timeout:g} s") from None
            raise AriError("unreachable", f"Cannot reach Asterisk ARI at {self.config.address} "
                                          f"({_network_reason(exc)})") from None
        finally:
            watchdog.cancel()
        if expired.is_set():  # cut after the last byte arrived: the answer may be partial
            raise AriError("timeout", f"Asterisk ARI at {self.config.address} did not answer "
                                      f"within {timeout:g} s")
        if response.status_code in (401, 403):
            raise AriError("auth", "Asterisk refused the ARI username/password",
                           response.status_code)
        if response.status_code >= 400:
            raise AriError("action", f"Asterisk refused the action: {_reason(response)}",
                           response.status_code)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise AriError("action", f"Asterisk ARI at {self.config.address} sent a response "
                                     "that is not JSON (is this the ARI port?)",
                           response.status_code) from None

    def asterisk_info(self) -> dict[str, Any]:
        """Version at ["system"]["version"]; ["status"]["startup_time"] and
        ["status"]["last_reload_time"] are ISO 8601 (e.g. "2026-11-26T18:38:16.051+0000")."""
        return self._json("GET", "/asterisk/info")

    def endpoints(self) -> list[dict[str, Any]]:
        """Realtime endpoints appear only once Asterisk has looked them up, and deleted ones stay
        listed until a restart (docs/asterisk-behaviour.md). No page calls it yet: the dialer
        will, to see which endpoints Asterisk knows."""
        return self._json("GET", "/endpoints")

    def endpoint(self, tech: str, resource: str) -> dict[str, Any]:
        return self._json("GET", f"/endpoints/{_segment(tech)}/{_segment(resource)}")

    def channels(self) -> list[dict[str, Any]]:
        """Every channel Asterisk has now (the dialer's reconcile after a restart)."""
        return self._json("GET", "/channels")

    def originate(self, *, endpoint: str, extension: str, context: str, priority: int = 1,
                  caller_id: str | None = None, timeout: int = 30,
                  variables: dict[str, str] | None = None,
                  channel_id: str | None = None) -> dict[str, Any]:
        """Create a channel to `endpoint` (e.g. "PJSIP/1001") that continues in the dialplan at
        context/extension/priority once answered. Returns the channel JSON (its "id").
        Agent calls go through AMI (services/calls.py) and the dialer originates into its Stasis
        application (`originate_to_app`); kept for dialling into the dialplan over ARI."""
        params: dict[str, Any] = {"endpoint": endpoint, "extension": extension,
                                  "context": context, "priority": priority, "timeout": timeout}
        if caller_id:
            params["callerId"] = caller_id
        if channel_id:
            params["channelId"] = channel_id
        _check(**params, **(variables or {}))
        # Variables go in the JSON body, where ARI reads them as an object.
        body = {"variables": dict(variables)} if variables else None
        try:
            return self._json("POST", "/channels", params=params, json=body)
        except AriError as exc:
            if exc.status == 500:  # ARI's answer for an endpoint it cannot allocate
                raise AriError("action", f"Asterisk could not create a channel to {endpoint} "
                                         "(is the endpoint known to Asterisk?)", 500) from None
            raise

    def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """A channel that no longer exists raises AriError("action", status=404). The dialer
        hangs up the channels it created through ARI with it."""
        self._request("DELETE", f"/channels/{_segment(channel_id)}", params={"reason": reason})

    # --- what the dialer needs: channels in our Stasis application, bridges, playback ---
    def originate_to_app(self, *, endpoint: str, channel_id: str, caller_id: str | None = None,
                         timeout: int = 30, app_args: str = "",
                         variables: dict[str, str] | None = None) -> dict[str, Any]:
        """Call `endpoint`; once answered the channel enters our Stasis application (the
        StasisStart event). `channel_id` is ours (the attempt's UUID): Asterisk refuses a
        second channel with the same id (409), so a retried originate cannot call twice."""
        params: dict[str, Any] = {"endpoint": endpoint, "app": self.config.app,
                                  "channelId": channel_id, "timeout": timeout}
        if app_args:
            params["appArgs"] = app_args
        if caller_id:
            params["callerId"] = caller_id
        _check(**params, **(variables or {}))
        body = {"variables": dict(variables)} if variables else None
        try:
            return self._json("POST", "/channels", params=params, json=body)
        except AriError as exc:
            if exc.status == 500:
                raise AriError("action", f"Asterisk could not create a channel to {endpoint} "
                                         "(is the endpoint known to Asterisk?)", 500) from None
            if exc.status == 409:
                raise AriError("action", f"A channel with id {channel_id} already exists",
                               409) from None
            raise

    def channel(self, channel_id: str) -> dict[str, Any]:
        """A channel that no longer exists raises AriError("action", status=404)."""
        return self._json("GET", f"/channels/{_segment(channel_id)}")

    def subscribe_channel(self, channel_id: str) -> None:
        """Have our application receive a channel's events while it is outside Stasis. Not
        needed for a channel we originated into our application: it stays subscribed after it
        leaves Stasis (docs/asterisk-behaviour.md); a channel created otherwise (originated
        into the dialplan, a call from a carrier) sends us nothing without it."""
        _check(channel=channel_id)
        self._request("POST", f"/applications/{_segment(self.config.app)}/subscription",
                      params={"eventSource": f"channel:{channel_id}"})

    def subscribe_endpoint(self, technology: str, resource: str) -> None:
        """Have our application receive an endpoint's events: ContactStatusChange says when
        a contact stops answering its qualify (a phone unplugged), with the endpoint "offline"
        once none is reachable."""
        _check(technology=technology, resource=resource)
        self._request("POST", f"/applications/{_segment(self.config.app)}/subscription",
                      params={"eventSource": f"endpoint:{technology}/{resource}"})

    def continue_in_dialplan(self, channel_id: str, *, context: str, extension: str = "s",
                             priority: int = 1) -> None:
        """The channel leaves our application (StasisEnd) for the dialplan at
        context/extension/priority. 404 if the channel is gone, 409 if it is not in Stasis."""
        params = {"context": context, "extension": extension, "priority": priority}
        _check(**params)
        self._request("POST", f"/channels/{_segment(channel_id)}/continue", params=params)

    def bridge_create(self, *, bridge_id: str, name: str = "") -> dict[str, Any]:
        """A mixing bridge with our id (the agent session's holding bridge)."""
        params = {"type": "mixing", "bridgeId": bridge_id}
        if name:
            params["name"] = name
        _check(**params)
        return self._json("POST", "/bridges", params=params)

    def bridge_add_channel(self, bridge_id: str, channel_id: str) -> None:
        _check(channel=channel_id)
        self._request("POST", f"/bridges/{_segment(bridge_id)}/addChannel",
                      params={"channel": channel_id})

    def bridge_destroy(self, bridge_id: str) -> None:
        self._request("DELETE", f"/bridges/{_segment(bridge_id)}")

    def play(self, channel_id: str, media: str, *, playback_id: str | None = None
             ) -> dict[str, Any]:
        """Play `media` ("sound:vm-goodbye") to a channel; returns the Playback JSON."""
        params = {"media": media}
        if playback_id:
            params["playbackId"] = playback_id
        _check(**params)
        return self._json("POST", f"/channels/{_segment(channel_id)}/play", params=params)


class AriEvents:
    """The events of our Stasis application, from ARI's WebSocket.

        events = AriEvents(config)
        for event in events.follow(stop=lambda: stopping, on_connect=reconcile):
            handle(event)

    `connect()` is bounded by the config's timeout; `receive(timeout)` returns one event (a
    dict) or None when nothing came; `follow()` reconnects after a lost connection, waiting
    `reconnect_delays` (the last one repeats) and calling `on_connect` after each connect, so
    the caller can reconcile what happened while it was away (GET /channels).
    """

    def __init__(self, config: AriConfig, *,
                 reconnect_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)) -> None:
        self.config = config
        self.reconnect_delays = reconnect_delays
        self._ws: ClientConnection | None = None
        self._stack: ExitStack | None = None

    @property
    def url(self) -> str:
        scheme = "wss" if self.config.scheme == "https" else "ws"
        query = urlencode({"app": self.config.app, "subscribeAll": "false"})
        return f"{scheme}://{self.config.host}:{self.config.port}/ari/events?{query}"

    def connect(self) -> None:
        self.close()
        token = base64.b64encode(
            f"{self.config.username}:{self.config.password}".encode()).decode()
        address = self.config.address
        try:
            stack = ExitStack()  # websockets wants its connection used as a context manager
            self._ws = stack.enter_context(connect(
                self.url, additional_headers={"Authorization": f"Basic {token}"},
                open_timeout=self.config.timeout, close_timeout=self.config.timeout,
                max_size=2 ** 22))
            self._stack = stack
        except websockets.exceptions.InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AriError("auth", "Asterisk refused the ARI username/password",
                               status) from None
            raise AriError("action", f"Asterisk ARI at {address} refused the event stream "
                                     f"(HTTP {status}; is the application name right?)",
                           status) from None
        except TimeoutError:
            raise AriError("timeout", f"Asterisk ARI at {address} did not open the event "
                                      f"stream within {self.config.timeout:g} s") from None
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            raise AriError("unreachable", f"Cannot reach Asterisk ARI events at {address} "
                                          f"({_network_reason(exc)})") from None

    def receive(self, timeout: float | None = None) -> dict[str, Any] | None:
        if self._ws is None:
            raise AriError("unreachable", "The ARI event stream is not connected")
        try:
            frame = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except (OSError, websockets.exceptions.WebSocketException):
            self.close()
            raise AriError("unreachable", f"Asterisk ARI at {self.config.address} closed the "
                                          "event stream") from None
        try:
            event = jsonlib.loads(frame)
        except ValueError:
            return {"type": "_Unreadable", "raw": str(frame)[:200]}
        return event if isinstance(event, dict) else {"type": "_Unreadable",
                                                       "raw": str(frame)[:200]}

    def follow(self, *, stop: Callable[[], bool], on_connect: Callable[[], None] | None = None,
               on_error: Callable[[AriError], None] | None = None,
               poll: float = 0.5) -> Iterator[dict[str, Any]]:
        failures = 0
        while not stop():
            if self._ws is None:
                try:
                    self.connect()
                except AriError as exc:
                    if on_error:
                        on_error(exc)
                    delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
                    failures += 1
                    _sleep_unless(stop, delay)
                    continue
                failures = 0
                if on_connect:
                    on_connect()
            try:
                event = self.receive(timeout=poll)
            except AriError as exc:
                if on_error:
                    on_error(exc)
                continue
            if event is not None:
                yield event
        self.close()

    def close(self) -> None:
        if self._stack is not None:
            try:
                self._stack.close()
            except (OSError, websockets.exceptions.WebSocketException):
                pass
        self._ws = self._stack = None


def _sleep_unless(stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stop() and time.monotonic() < deadline:
        time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))


def _reason(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and (payload.get("message") or payload.get("error")):
        return str(payload.get("message") or payload.get("error"))
    return f"HTTP {response.status_code}"
