"""Throughput of the dialer's hot paths against the ARI protocol fake, on one core.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \
        .venv/bin/python benchmarks/dialer_throughput.py [--calls 2000] [--events 100000]

The FakeAriServer (the test suite's ARI fake: real HTTP, real WebSocket framing) runs in its
own process, so this process's CPU time is the dialer's alone. Three measurements:

* launches/s: what the worker does per customer call, in sequence: write the DialAttempt row
  (committed), then POST /channels into Stasis with the row's id as channelId (keep-alive
  HTTP). Target >= 200/s.
* events/s: the event stream as the worker reads it: WebSocket frames from /ari/events,
  JSON-decoded, filtered by `event_wanted` (a realistic mix: of every 10 events of a call,
  3 change a row; the rest are ChannelVarset, Dial, bridge and playback events). Target
  >= 10,000/s.
* handled/s: the events that change rows, through `handle_event` against the database
  (ringing, answered with no agent ready, destroyed): database-bound, reported as is.

Creates the database if it is missing, migrates it, and removes its rows at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autodialer.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

warnings.filterwarnings("ignore", "No directory at")

from bulk_create import ensure_database  # noqa: E402

SERVER_NAME = "benchmark-dialer"
CAMPAIGN_ID = 990_001


def _fake_process(ports, commands) -> None:
    """Child: run the ARI fake; on ("blast", n) send n events to the listener."""
    from telephony.tests.fakes.ari import FakeAriServer

    with FakeAriServer() as fake:
        fake.endpoints[("PJSIP", "trunk")] = {"technology": "PJSIP", "resource": "trunk",
                                              "state": "online", "channel_ids": []}
        ports.put(fake.port)
        while True:
            command = commands.get()
            if command[0] == "stop":
                return
            if command[0] == "blast":
                fake.wait_for_listener()
                with fake._lock:
                    listeners = list(fake.listeners)
                frames = [json.dumps(event) for event in _event_mix(command[1])]
                for text in frames:
                    for listener in listeners:
                        listener.send_text(text)
                fake.channels.clear()


def _event_mix(count: int) -> list[dict]:
    """Per call: 10 events as Asterisk sends them, 3 of which the dialer acts on."""
    events = []
    channel = {"id": "", "name": "PJSIP/trunk-00000001", "state": "Ringing",
               "caller": {"name": "", "number": ""}, "connected": {"name": "", "number": ""},
               "accountcode": "", "dialplan": {"context": "", "exten": "", "priority": 0},
               "creationtime": "2026-12-01T20:00:00.000+0000", "language": "en"}
    base = {"asterisk_id": "02:fc:00:00:00:01", "application": "autodialer",
            "timestamp": "2026-12-01T20:00:00.000+0000"}
    while len(events) < count:
        channel = dict(channel, id=str(uuid.uuid4()))
        bridge = {"id": "agent-x", "technology": "simple_bridge", "bridge_type": "mixing",
                  "channels": [channel["id"]]}
        for kind in ("Dial", "ChannelStateChange", "ChannelVarset", "ChannelVarset",
                     "StasisStart", "ChannelEnteredBridge", "PlaybackStarted",
                     "ChannelLeftBridge", "StasisEnd", "ChannelDestroyed"):
            event = {**base, "type": kind, "channel": channel}
            if kind == "ChannelVarset":
                event.update(variable="AUTODIALER", value="1")
            elif kind in ("ChannelEnteredBridge", "ChannelLeftBridge"):
                event["bridge"] = bridge
            elif kind == "ChannelDestroyed":
                event.update(cause=16, cause_txt="Normal Clearing")  # as Asterisk sends it
            events.append(event)
    return events[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    django.setup()
    ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.db import connection
    from django.utils import timezone

    from telephony.asterisk.ari import AriClient, AriConfig, AriEvents
    from telephony.dialer.events import event_wanted, handle_event
    from telephony.models import AsteriskServer, DialAttempt

    ports, commands = multiprocessing.Queue(), multiprocessing.Queue()
    child = multiprocessing.Process(target=_fake_process, args=(ports, commands), daemon=True)
    child.start()
    port = ports.get(timeout=30)
    config = AriConfig(scheme="http", host="127.0.0.1", port=port, username="asterisk",
                       password="ari-pass", app="autodialer", timeout=5)
    server, _ = AsteriskServer.objects.get_or_create(
        name=SERVER_NAME, defaults=dict(host="127.0.0.1", ami_host="127.0.0.1",
                                        ami_username="bench", ami_password="bench-password",
                                        ari_host="127.0.0.1", ari_port=port,
                                        ari_username="asterisk", ari_password="ari-pass"))
    print(f"database: {connection.vendor}; fake ARI in process {child.pid}")
    try:
        # --- launches ---
        client = AriClient(config)
        started, cpu = time.perf_counter(), time.process_time()
        ids = []
        for n in range(args.calls):
            attempt = DialAttempt.objects.create(
                campaign_id=CAMPAIGN_ID, lead_id=n, phone_number=f"+1555{n:07d}",
                server_id=server.pk, carrier_name="bench", worker="bench",
                created_at=timezone.now())
            client.originate_to_app(endpoint=f"PJSIP/+1555{n:07d}@trunk",
                                    channel_id=str(attempt.pk), caller_id="Bench <5550100>",
                                    timeout=25, app_args="customer")
            ids.append(attempt.pk)
        wall = time.perf_counter() - started
        used = time.process_time() - cpu
        print(f"launches: {args.calls} in {wall:.2f} s = {args.calls / wall:.0f}/s wall, "
              f"{args.calls / used:.0f}/s per CPU second of this process (target >= 200/s)")

        # --- the event stream ---
        stream = AriEvents(config)
        stream.connect()
        commands.put(("blast", args.events))
        received = wanted = 0
        started, cpu = None, None
        while received < args.events:
            event = stream.receive(timeout=10)
            if event is None:
                break
            if started is None:
                started, cpu = time.perf_counter(), time.process_time()
            received += 1
            wanted += event_wanted(event)
        wall = time.perf_counter() - started
        used = time.process_time() - cpu
        stream.close()
        print(f"events: {received} received ({wanted} wanted) in {wall:.2f} s = "
              f"{received / wall:.0f}/s wall, {received / used:.0f}/s per CPU second "
              f"(target >= 10,000/s)")

        # --- handled events (database) ---
        now = timezone.now()
        handled = []
        for attempt_id in ids:
            channel = {"id": str(attempt_id), "state": "Ringing"}
            handled += [{"type": "ChannelStateChange", "channel": channel},
                        {"type": "StasisStart", "args": ["customer"],
                         "channel": dict(channel, state="Up")},
                        {"type": "ChannelDestroyed", "cause": 16,
                         "cause_txt": "Normal Clearing", "channel": dict(channel, state="Down")}]
        started, cpu = time.perf_counter(), time.process_time()
        for event in handled:
            handle_event(server, event, client, now=now)
        wall = time.perf_counter() - started
        used = time.process_time() - cpu
        print(f"handled: {len(handled)} row-changing events in {wall:.2f} s = "
              f"{len(handled) / wall:.0f}/s wall, {len(handled) / used:.0f}/s per CPU second")
        client.close()
    finally:
        commands.put(("stop",))
        child.join(10)
        with connection.cursor() as cursor:  # sealed rows are append-only: go around it
            table = DialAttempt._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER dialattempt_sealed")
                cursor.execute(f"DELETE FROM {table} WHERE campaign_id = %s", [CAMPAIGN_ID])
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER dialattempt_sealed")
            else:
                print(f"(benchmark rows left in {table}, campaign_id {CAMPAIGN_ID}: the "
                      "ledger is append-only)")
        AsteriskServer.objects.filter(name=SERVER_NAME).delete()


if __name__ == "__main__":
    main()
