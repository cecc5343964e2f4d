"""Asterisk REST Interface (ARI) client: the only module that imports requests.

Pure Python (no Django). Every call has (connect, read) timeouts and raises AriError, never a
requests exception.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

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


class AriClient:
    def __init__(self, config: AriConfig) -> None:
        self.config = config
        self.session = requests.Session()
        self.session.auth = (config.username, config.password)
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AriClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 json: Any = None) -> requests.Response:
        timeout = self.config.timeout
        try:
            response = self.session.request(method, self.config.base_url + path, params=params,
                                            json=json, timeout=(timeout, timeout))
        except requests.exceptions.Timeout:
            raise AriError("timeout", f"Asterisk ARI at {self.config.address} did not answer "
                                      f"within {timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise AriError("unreachable", f"Cannot reach Asterisk ARI at {self.config.address} "
                                          f"({_network_reason(exc)})") from None
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
        """Realtime endpoints appear only once Asterisk has looked them up (FACTS.md)."""
        return self._json("GET", "/endpoints")

    def endpoint(self, tech: str, resource: str) -> dict[str, Any]:
        return self._json("GET", f"/endpoints/{_segment(tech)}/{_segment(resource)}")

    def channels(self) -> list[dict[str, Any]]:
        return self._json("GET", "/channels")

    def originate(self, *, endpoint: str, extension: str, context: str, priority: int = 1,
                  caller_id: str | None = None, timeout: int = 30,
                  variables: dict[str, str] | None = None,
                  channel_id: str | None = None) -> dict[str, Any]:
        """Create a channel to `endpoint` (e.g. "PJSIP/1001") that continues in the dialplan at
        context/extension/priority once answered. Returns the channel JSON (its "id")."""
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
        """A channel that no longer exists raises AriError("action", status=404)."""
        self._request("DELETE", f"/channels/{_segment(channel_id)}", params={"reason": reason})


def _reason(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and (payload.get("message") or payload.get("error")):
        return str(payload.get("message") or payload.get("error"))
    return f"HTTP {response.status_code}"
