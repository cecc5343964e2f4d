"""An in-process ARI (HTTP) server answering like Asterisk 22.

Routes and bodies are copied from ../shared/asterisk/transcripts/ari_*.txt.

    with FakeAriServer() as ari:
        client = AriClient(ari.config(timeout=1))
        ...
        assert ari.requests[-1]["query"]["endpoint"] == "PJSIP/1001"
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ASTERISK_INFO = {
    "build": {"os": "Linux", "kernel": "6.18.44-fc-v657", "machine": "x86_64",
              "options": "OPTIONAL_API", "date": "2026-11-26 18:31:11 UTC", "user": "root"},
    "system": {"version": "22.10.1", "entity_id": "02:fc:00:00:00:01"},
    "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""},
               "max_open_files": 4096},
    "status": {"startup_time": "2026-11-26T18:38:16.051+0000",
               "last_reload_time": "2026-11-26T18:38:16.051+0000"},
}


class FakeAriServer:
    def __init__(self, *, username: str = "asterisk", password: str = "ari-pass",
                 app: str = "autodialer", black_hole: bool = False) -> None:
        self.username, self.password, self.app = username, password, app
        self.black_hole = black_hole  # accept and read requests, never answer
        self.endpoints: dict[tuple[str, str], dict[str, Any]] = {
            ("PJSIP", "1001"): {"technology": "PJSIP", "resource": "1001", "state": "online",
                                "channel_ids": []},
        }
        self.channels: dict[str, dict[str, Any]] = {}
        # method, path, query (dict), body (parsed JSON or None), authorization header
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(10)
        self._lock = threading.Lock()
        self._released = threading.Event()  # lets black-holed handler threads finish
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        name="fake-ari", daemon=True)

    def __enter__(self) -> FakeAriServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def config(self, **overrides: Any) -> Any:
        from telephony.asterisk.ari import AriConfig

        values = {"scheme": "http", "host": self.host, "port": self.port,
                  "username": self.username, "password": self.password, "app": self.app,
                  **overrides}
        return AriConfig(**values)

    def add_channel(self, channel_id: str, name: str = "PJSIP/1001-00000001") -> dict[str, Any]:
        channel = _channel(channel_id, name, "Up", "agents", "5551234", ("", ""))
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    # --- request handling (handler threads) ---
    def route(self, method: str, path: str, query: dict[str, str],
              body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["ari"]:
            return 404, {"message": "Resource not found"}
        parts = parts[1:]
        with self._lock:
            if method == "GET" and parts == ["asterisk", "info"]:
                return 200, ASTERISK_INFO
            if method == "GET" and parts == ["endpoints"]:
                return 200, list(self.endpoints.values())
            if method == "GET" and len(parts) == 3 and parts[0] == "endpoints":
                endpoint = self.endpoints.get((parts[1], parts[2]))
                return (200, endpoint) if endpoint else (404, {"message": "Endpoint not found"})
            if method == "GET" and parts == ["channels"]:
                return 200, list(self.channels.values())
            if method == "POST" and parts == ["channels"]:
                return self._originate({**query, **(body or {})})
            if method == "DELETE" and len(parts) == 2 and parts[0] == "channels":
                if self.channels.pop(parts[1], None) is None:
                    return 404, {"message": "Channel not found"}
                return 204, None
        return 404, {"message": "Resource not found"}

    def _originate(self, params: dict[str, Any]) -> tuple[int, Any]:
        endpoint = params.get("endpoint", "")
        if not endpoint:
            return 400, {"message": "Endpoint must be specified"}
        tech, _, resource = endpoint.partition("/")
        # A PJSIP endpoint Asterisk does not know cannot get a channel (ari_originate_pjsip_9999).
        if tech.upper() != "LOCAL" and (tech, resource) not in self.endpoints:
            return 500, {"error": "Allocation failed"}
        channel_id = params.get("channelId") or f"1795718528.{next(self._ids)}"
        name = (f"{endpoint}-{len(self.channels) + 4:08x};1" if tech.upper() == "LOCAL"
                else f"{endpoint}-{len(self.channels) + 1:08x}")
        caller = params.get("callerId", "")
        cid_name, _, cid_num = caller.partition(" <")
        channel = _channel(channel_id, name, "Down", params.get("context", ""),
                           params.get("extension", ""), (cid_name, cid_num.rstrip(">")))
        self.channels[channel_id] = channel
        return 200, channel


def _channel(channel_id: str, name: str, state: str, context: str, exten: str,
             caller: tuple[str, str]) -> dict[str, Any]:
    party = {"name": caller[0], "number": caller[1]}
    return {"id": channel_id, "name": name, "state": state, "protocol_id": "",
            "caller": party, "connected": dict(party), "accountcode": "",
            "dialplan": {"context": context, "exten": exten, "priority": 1,
                         "app_name": "AppDial2", "app_data": "(Outgoing Line)"},
            "creationtime": "2026-11-26T18:42:08.093+0000", "language": "en"}


def _handler_for(fake: FakeAriServer) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(
        f"{fake.username}:{fake.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Asterisk/22.10.1"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization")
            with fake._lock:
                fake.requests.append({"method": self.command, "path": url.path, "query": query,
                                      "body": body, "authorization": auth})
            if fake.black_hole:
                fake._released.wait()
                return
            if auth != expected and query.get("api_key") != f"{fake.username}:{fake.password}":
                self._reply(401, {"message": "Authentication required"},
                            {"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'})
                return
            self._reply(*fake.route(self.command, url.path, query, body))

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if payload is None else json.dumps(payload, indent=2).encode()
            self.send_response(status)
            self.send_header("Cache-Control", "no-cache, no-store")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if payload is not None:
                self.send_header("Content-type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = _serve

    return Handler
