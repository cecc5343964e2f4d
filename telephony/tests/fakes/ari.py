"""An in-process ARI (HTTP) server answering like Asterisk 22.

Routes and bodies are copied from ../shared/asterisk/transcripts/ari_*.txt. The Stasis side
(originate into our application, bridges, playback, and the /ari/events WebSocket with its
StasisStart / ChannelStateChange / ChannelEnteredBridge / StasisEnd / ChannelDestroyed frames) is
checked against transcripts/ari_stasis_local.txt, recorded from a real Asterisk 22.10.1
(Local channels into Stasis: answered, busy, ring-out, hung up by us, a bridge, a playback).
What that recording showed and the fake follows: the originated channel's progress comes as
Dial events with the channel as `peer` (dialstatus "", RINGING, ANSWER, BUSY, ...); StasisStart's
channel has app_name "Stasis" and app_data "<app>,<args>"; a far-end hang-up in a bridge is
ChannelHangupRequest, ChannelLeftBridge, StasisEnd, ChannelDestroyed; playback is
PlaybackStarted then PlaybackFinished; DELETE /bridges sends BridgeDestroyed. Field by field
(test_fake_ari_frames.py compares every frame's field names and JSON types with the recording):
ChannelHangupRequest carries "soft": true only for a soft hang-up (ours, DELETE /channels, whose
"cause" is then the flag 32) and no "soft" at all when the far end hangs up; ChannelDestroyed
shows the channel in its last state (Up, Ringing), not Down; a bridge has no bridgevars; nothing
of the fake's own bookkeeping (appArgs before the answer) is ever sent. And, event by event,
against transcripts/ari_stasis_pjsip.txt (PJSIP through a trunk): each originated leg starts
with Dial "" (dialstring = the endpoint without its technology); a busy trunk leg gets
ChannelHangupRequest, Dial BUSY, ChannelDestroyed, with tech_cause 486; a ring-out only
ChannelDestroyed (19, tech_cause 480); channels are named after the endpoint.

And against transcripts/ari_stasis_amd.txt (answering-machine detection): `POST
/channels/{id}/continue` takes a channel out of Stasis (StasisEnd) into the dialplan, where our
application still hears of it while subscribed to it: a channel it originated is, for its whole
life (transcripts/ari_stasis_amd_hangup.txt), others after `POST /applications/{app}/
subscription`; Stasis() in the dialplan brings it back with a StasisStart carrying the verdict.

    ari.answer(channel_id)           # the customer picks up: StasisStart
    ari.amd_verdict(channel_id, "MACHINE", "LONGGREETING-1500-1500")   # AMD() done: StasisStart
    ari.remote_hangup(channel_id)    # the far end hangs up: StasisEnd, ChannelDestroyed

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
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from telephony.tests.fakes.websocket import ServerSocket, accept_key

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
        # Seconds between the bytes of every answer, headers included (a slow or hostile
        # server that never trips a per-read timeout); 0 answers at once.
        self.trickle = 0.0
        # What /asterisk/info answers: a faulty server may send any JSON at all.
        self.info: Any = ASTERISK_INFO
        self.endpoints: dict[tuple[str, str], dict[str, Any]] = {
            ("PJSIP", "1001"): {"technology": "PJSIP", "resource": "1001", "state": "online",
                                "channel_ids": []},
        }
        self.channels: dict[str, dict[str, Any]] = {}
        self.bridges: dict[str, dict[str, Any]] = {}
        self.in_stasis: set[str] = set()
        # Channels our application is subscribed to (they send events outside Stasis too):
        # those it originated, and those it subscribed to.
        self.subscribed: set[str] = set()
        self.subscribed_endpoints: set[str] = set()  # "PJSIP/7501"
        # Answered channels sent on to the dialplan (continue), until Stasis() takes them back.
        self.in_dialplan: set[str] = set()
        # appArgs of an originate into our application, until the channel answers (StasisStart):
        # kept apart, as Asterisk sends them nowhere before that.
        self.app_args: dict[str, str] = {}
        # What Dial events give as dialstring: the originate's endpoint without its technology
        # ("+12125550100@trunk-acme", "s@answer").
        self.dialstrings: dict[str, str] = {}
        self.listeners: list[ServerSocket] = []
        self.events_sent: list[dict[str, Any]] = []
        self.playback_seconds = 0.0  # how long a sound "plays" before PlaybackFinished
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

    # --- the event stream ---
    def emit(self, event: dict[str, Any]) -> None:
        """Send one event, framed as Asterisk sends it, to every connected listener."""
        full = {**event, "timestamp": _now(), "asterisk_id": ASTERISK_INFO["system"]["entity_id"],
                "application": self.app}
        with self._lock:
            self.events_sent.append(full)
            listeners = list(self.listeners)
        text = json.dumps(full)
        for listener in listeners:
            listener.send_text(text)

    def wait_for_listener(self, count: int = 1, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                alive = [ws for ws in self.listeners if not ws.closed.is_set()]
            if len(alive) >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} event listener(s) did not connect in {timeout} s")
            time.sleep(0.01)

    def drop_listeners(self) -> None:
        with self._lock:
            listeners, self.listeners = list(self.listeners), []
        for listener in listeners:
            listener.drop()

    # --- what the far end does ---
    def _dial(self, channel: dict[str, Any], status: str) -> None:
        self.emit({"type": "Dial", "peer": dict(channel), "dialstatus": status,
                   "dialstring": self.dialstrings.get(channel["id"], ""), "forward": ""})

    def ring(self, channel_id: str) -> None:
        with self._lock:
            channel = self.channels[channel_id]
            channel["state"] = "Ringing"
        self.emit({"type": "ChannelStateChange", "channel": dict(channel)})
        self._dial(channel, "RINGING")

    def answer(self, channel_id: str) -> None:
        """The called party answers: the channel is Up and enters our application."""
        with self._lock:
            channel = self.channels[channel_id]
            channel["state"] = "Up"
            args = self.app_args.pop(channel_id, "")
            channel["dialplan"] = {**channel["dialplan"], "app_name": "Stasis",
                                   "app_data": ",".join([self.app, *([args] if args else [])])}
            self.in_stasis.add(channel_id)
        self.emit({"type": "ChannelStateChange", "channel": dict(channel)})
        self._dial(channel, "ANSWER")
        self.emit({"type": "StasisStart", "args": args.split(",") if args else [],
                   "channel": dict(channel)})

    def amd_verdict(self, channel_id: str, status: str, cause: str) -> None:
        """AMD() in the dialplan has decided: Stasis(<app>,amd,<status>,<cause>) brings the
        channel back into our application."""
        with self._lock:
            channel = self.channels[channel_id]
            channel["dialplan"] = {**channel["dialplan"], "priority": 2, "app_name": "Stasis",
                                   "app_data": f"{self.app},amd,{status},{cause}"}
            self.in_stasis.add(channel_id)
            self.in_dialplan.discard(channel_id)
        self.emit({"type": "StasisStart", "args": ["amd", status, cause],
                   "channel": dict(channel)})

    def unplug(self, extension: str, *, port: int = 5060) -> None:
        """The phone of `extension` vanishes (no BYE) and its next qualify goes unanswered:
        its channels stay up; subscribers of its endpoint get ContactStatusChange Unreachable
        with the endpoint offline, as transcripts/ari_phone_unplugged.txt recorded."""
        with self._lock:
            endpoint = self.endpoints.get(("PJSIP", extension)) or {
                "technology": "PJSIP", "resource": extension, "state": "online",
                "channel_ids": []}
            endpoint["state"] = "offline"
            channel_ids = [cid for cid, channel in self.channels.items()
                           if channel.get("name", "").startswith(f"PJSIP/{extension}-")]
            subscribed = f"PJSIP/{extension}" in self.subscribed_endpoints
        if subscribed:
            self.emit({"type": "ContactStatusChange",
                       "endpoint": {"technology": "PJSIP", "resource": extension,
                                    "state": "offline", "channel_ids": channel_ids},
                       "contact_info": {"uri": f"sip:{extension}@127.0.0.1:{port}",
                                        "contact_status": "Unreachable", "aor": extension,
                                        "roundtrip_usec": "0"}})

    def remote_hangup(self, channel_id: str, cause: int = 16,
                      cause_txt: str = "Normal Clearing") -> None:
        self._end(channel_id, cause, cause_txt, {"cause": cause})

    def _end(self, channel_id: str, cause: int, cause_txt: str,
             request: dict[str, Any]) -> bool:
        """End the channel: `request` is what its ChannelHangupRequest carries (the far end
        hanging up: its Q.850 cause, no "soft"; our DELETE: a soft hang-up, see route)."""
        with self._lock:
            channel = self.channels.pop(channel_id, None)
            if channel is None:
                return False
            left = [b for b in self.bridges.values() if channel_id in b["channels"]]
            for bridge in left:
                bridge["channels"].remove(channel_id)
            was_in_stasis = channel_id in self.in_stasis
            self.in_stasis.discard(channel_id)
            self.app_args.pop(channel_id, None)
            subscribed = channel_id in self.subscribed
            self.subscribed.discard(channel_id)
            in_dialplan = channel_id in self.in_dialplan
            self.in_dialplan.discard(channel_id)
        if in_dialplan:
            # Answered and out in the dialplan (continued): our application hears of its end
            # only if it is subscribed to the channel.
            self.dialstrings.pop(channel_id, None)
            if subscribed:
                if not request.get("soft"):
                    # The far end's BYE while a dialplan application (AMD) runs: Asterisk
                    # gives no cause at all, 0 "Unknown" at the end (ari_stasis_amd_hangup).
                    request, cause, cause_txt = {}, 0, "Unknown"
                self.emit({"type": "ChannelHangupRequest", **request, "channel": channel})
                self.emit({"type": "ChannelDestroyed", "cause": cause, "cause_txt": cause_txt,
                           "channel": channel})
            return True
        # A SIP failure gives the trunk's leg the SIP status as tech_cause (486 busy, 480 for
        # a ring-out Asterisk ended at the originate's timeout: ari_stasis_pjsip.txt); a Local
        # leg has none (ari_stasis_local.txt).
        pjsip = channel["name"].startswith("PJSIP/")
        tech = ({"tech_cause": _SIP_STATUS[cause]}
                if pjsip and not was_in_stasis and cause in _SIP_STATUS else {})
        if not was_in_stasis:
            # Never answered. Rung out (19): nothing but ChannelDestroyed, no Dial NOANSWER
            # (both recordings). Otherwise Dial says how it ended, after the trunk's
            # ChannelHangupRequest; a Local leg gets no hang-up request of its own.
            if cause != 19:
                if pjsip:
                    self.emit({"type": "ChannelHangupRequest", **request, **tech,
                               "channel": channel})
                self._dial(channel, _DIALSTATUS.get(cause, "CONGESTION"))
        else:
            self.emit({"type": "ChannelHangupRequest", **request, "channel": channel})
        self.dialstrings.pop(channel_id, None)
        for bridge in left:
            self.emit({"type": "ChannelLeftBridge", "bridge": dict(bridge), "channel": channel})
        if was_in_stasis:
            self.emit({"type": "StasisEnd", "channel": channel})
        # The channel as it last was (Up, Ringing, ...): Asterisk does not report it Down.
        self.emit({"type": "ChannelDestroyed", "cause": cause, "cause_txt": cause_txt, **tech,
                   "channel": channel})
        return True

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
                return 200, self.info
            if method == "GET" and parts == ["endpoints"]:
                return 200, list(self.endpoints.values())
            if method == "GET" and len(parts) == 3 and parts[0] == "endpoints":
                endpoint = self.endpoints.get((parts[1], parts[2]))
                return (200, endpoint) if endpoint else (404, {"message": "Endpoint not found"})
            if method == "GET" and parts == ["channels"]:
                return 200, list(self.channels.values())
            if method == "GET" and len(parts) == 2 and parts[0] == "channels":
                channel = self.channels.get(parts[1])
                return (200, channel) if channel else (404, {"message": "Channel not found"})
            if method == "POST" and len(parts) == 3 and parts[0] == "channels" \
                    and parts[2] == "play":
                return self._play(parts[1], query)
            if method == "POST" and len(parts) == 3 and parts[0] == "applications" \
                    and parts[2] == "subscription":
                return self._subscribe(parts[1], query.get("eventSource", ""))
            if method == "POST" and parts == ["bridges"]:
                return self._bridge_create(query)
            if method == "POST" and len(parts) == 3 and parts[:1] == ["bridges"] \
                    and parts[2] == "addChannel":
                return self._bridge_add(parts[1], query.get("channel", ""))
            if method == "DELETE" and len(parts) == 2 and parts[0] == "bridges":
                bridge = self.bridges.pop(parts[1], None)
                if bridge is None:
                    return 404, {"message": "Bridge not found"}
                threading.Thread(target=self.emit, args=(
                    {"type": "BridgeDestroyed", "bridge": bridge},), daemon=True).start()
                return 204, None
        # Originating into our application and hanging up emit events: outside the lock.
        if method == "POST" and parts == ["channels"]:
            params = {**query, **(body or {})}
            with self._lock:
                status, channel = self._originate(params)
            if status == 200 and params.get("app"):
                self._dial(channel, "")  # Asterisk starts dialling: Dial, dialstatus ""
            return status, channel
        if method == "POST" and len(parts) == 3 and parts[0] == "channels" \
                and parts[2] == "continue":
            return self._continue(parts[1], query)
        if method == "DELETE" and len(parts) == 2 and parts[0] == "channels":
            # A hang-up through ARI is a soft hang-up: its "cause" is Asterisk's softhangup
            # flag AST_SOFTHANGUP_EXPLICIT (32), not a Q.850 cause; the channel then ends
            # with 16 Normal Clearing.
            if not self._end(parts[1], 16, "Normal Clearing",
                             {"cause": SOFTHANGUP_EXPLICIT, "soft": True}):
                return 404, {"message": "Channel not found"}
            return 204, None
        return 404, {"message": "Resource not found"}

    def _subscribe(self, app: str, source: str) -> tuple[int, Any]:
        if app != self.app:
            return 404, {"message": "Application not found"}
        kind, _, name = source.partition(":")
        if kind == "endpoint":  # "PJSIP/7501" (transcripts/ari_phone_unplugged.txt)
            tech, _, resource = name.partition("/")
            if (tech, resource) not in self.endpoints:
                return 422, {"message": "Event source does not exist"}
            self.subscribed_endpoints.add(name)
        elif kind == "channel":
            if name not in self.channels:
                return 422, {"message": "Event source does not exist"}
            self.subscribed.add(name)
        else:
            return 400, {"message": "Invalid event source URI scheme"}
        return 200, {"name": self.app, "channel_ids": sorted(self.subscribed), "bridge_ids": [],
                     "endpoint_ids": sorted(self.subscribed_endpoints), "device_names": [],
                     "events_allowed": [], "events_disallowed": []}

    def _continue(self, channel_id: str, query: dict[str, str]) -> tuple[int, Any]:
        """The channel leaves our application (StasisEnd) for the dialplan."""
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return 404, {"message": "Channel not found"}
            if channel_id not in self.in_stasis:
                return 409, {"message": "Channel not in Stasis application"}
            self.in_stasis.discard(channel_id)
            self.in_dialplan.add(channel_id)
            ended = dict(channel)
            channel["dialplan"] = {"context": query.get("context", ""),
                                   "exten": query.get("extension", "s"),
                                   "priority": int(query.get("priority") or 1),
                                   "app_name": "AMD", "app_data": ""}
        self.emit({"type": "StasisEnd", "channel": ended})
        return 204, None

    def _play(self, channel_id: str, query: dict[str, str]) -> tuple[int, Any]:
        if channel_id not in self.channels:
            return 404, {"message": "Channel not found"}
        if channel_id not in self.in_stasis:
            return 409, {"message": "Channel not in Stasis application"}
        playback = {"id": query.get("playbackId") or f"pb-{next(self._ids)}",
                    "media_uri": query.get("media", ""), "target_uri": f"channel:{channel_id}",
                    "language": "en", "state": "queued"}
        threading.Thread(target=self._play_out, args=(dict(playback),), daemon=True).start()
        return 201, playback

    def _play_out(self, playback: dict[str, Any]) -> None:
        self.emit({"type": "PlaybackStarted", "playback": {**playback, "state": "playing"}})
        time.sleep(self.playback_seconds)
        self.emit({"type": "PlaybackFinished", "playback": {**playback, "state": "done"}})

    def _bridge_create(self, query: dict[str, str]) -> tuple[int, Any]:
        bridge_id = query.get("bridgeId") or f"bridge-{next(self._ids)}"
        bridge = {"id": bridge_id, "technology": "simple_bridge", "bridge_type": "mixing",
                  "bridge_class": "stasis", "creator": "Stasis", "name": query.get("name", ""),
                  "channels": [], "video_mode": "talker", "creationtime": _now()}
        self.bridges[bridge_id] = bridge
        return 200, bridge

    def _bridge_add(self, bridge_id: str, channel_id: str) -> tuple[int, Any]:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            return 404, {"message": "Bridge not found"}
        if channel_id not in self.channels:
            return 400, {"message": "Channel not found"}
        if channel_id not in self.in_stasis:
            return 422, {"message": "Channel not in Stasis application"}
        bridge["channels"].append(channel_id)
        event = {"type": "ChannelEnteredBridge", "bridge": dict(bridge, channels=list(
            bridge["channels"])), "channel": dict(self.channels[channel_id])}
        threading.Thread(target=self.emit, args=(event,), daemon=True).start()
        return 204, None

    def _originate(self, params: dict[str, Any]) -> tuple[int, Any]:
        endpoint = params.get("endpoint", "")
        if not endpoint:
            return 400, {"message": "Endpoint must be specified"}
        tech, _, resource = endpoint.partition("/")
        # A PJSIP endpoint Asterisk does not know cannot get a channel (ari_originate_pjsip_9999).
        # "PJSIP/5551234@trunk" dials 5551234 through the endpoint "trunk".
        if tech.upper() != "LOCAL" and (tech, resource.rpartition("@")[2]) not in self.endpoints:
            return 500, {"error": "Allocation failed"}
        channel_id = params.get("channelId") or f"1795718528.{next(self._ids)}"
        if channel_id in self.channels:
            return 409, {"message": "Channel with given unique ID already exists."}
        # Named as Asterisk names them: Local/s@answer-00000004;1, PJSIP/trunk-acme-00000003
        # for PJSIP/<number>@trunk-acme (the endpoint, not the number).
        name = (f"{endpoint}-{len(self.channels) + 4:08x};1" if tech.upper() == "LOCAL"
                else f"{tech}/{resource.rpartition('@')[2]}-{len(self.channels) + 1:08x}")
        caller = params.get("callerId", "")
        cid_name, _, cid_num = caller.partition(" <")
        channel = _channel(channel_id, name, "Down", params.get("context", ""),
                           params.get("extension", ""), (cid_name, cid_num.rstrip(">")))
        if params.get("app"):
            if params["app"] != self.app:
                return 400, {"message": f"Application '{params['app']}' not registered"}
            exten, _, context = resource.partition("@") if tech.upper() == "LOCAL" else ("s", "",
                                                                                          "default")
            channel["dialplan"] = {"context": context, "exten": exten, "priority": 1,
                                   "app_name": "AppDial2", "app_data": "(Outgoing Line)"}
            self.app_args[channel_id] = params.get("appArgs", "")
            self.dialstrings[channel_id] = resource
            # Originated into our application: subscribed to it for the channel's life, in
            # Stasis or not (ari_stasis_amd_hangup.txt).
            self.subscribed.add(channel_id)
        self.channels[channel_id] = channel
        return 200, dict(channel)


# Q.850 cause -> the SIP status a PJSIP trunk leg reports as tech_cause (ari_stasis_pjsip.txt).
_SIP_STATUS = {17: 486, 19: 480}
# ChannelHangupRequest's "cause" of a soft hang-up (DELETE /channels/{id}): Asterisk's flag.
SOFTHANGUP_EXPLICIT = 32
# The hang-up cause of a leg that never answered -> the dialstatus of its Dial event.
_DIALSTATUS = {17: "BUSY", 18: "NOANSWER", 19: "NOANSWER", 21: "CONGESTION", 16: "CANCEL"}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())


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
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall
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
            if url.path == "/ari/events" and self.headers.get("Upgrade", "").lower() == "websocket":
                self._events(query)
                return
            self._reply(*fake.route(self.command, url.path, query, body))

        def _events(self, query: dict[str, str]) -> None:
            if query.get("app") != fake.app:
                self._reply(400, {"error": "Invalid application provided in param [app]."})
                return
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept",
                             accept_key(self.headers.get("Sec-WebSocket-Key", "")))
            self.end_headers()
            self.wfile.flush()
            socket = ServerSocket(self.rfile, self.wfile, self.connection)
            with fake._lock:
                fake.listeners.append(socket)
            socket.serve()
            self.close_connection = True

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if payload is None else json.dumps(payload, indent=2).encode()
            self.send_response(status)
            self.send_header("Cache-Control", "no-cache, no-store")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if payload is not None:
                self.send_header("Content-type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if fake.trickle:
                self._headers_buffer.append(b"\r\n")
                raw, self._headers_buffer = b"".join(self._headers_buffer) + data, []
                self._trickle(raw)
                return
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, raw: bytes) -> None:
            for index in range(len(raw)):
                if fake._released.wait(fake.trickle):
                    return
                try:
                    self.wfile.write(raw[index:index + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up and cut the connection
                    return

        do_GET = do_POST = do_DELETE = do_PUT = _serve

    return Handler
