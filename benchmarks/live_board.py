"""Benchmark: the supervisors' live board, which every open wallboard re-fetches every 3 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \
        .venv/bin/python benchmarks/live_board.py --agents 300

Creates the database if it is missing, migrates it, adds N agents with a registered phone and
a day of calls each (half of them on a live call), then times the board fragment through
Django's request stack (a logged-in supervisor) and counts its queries. The board asks
Asterisk too (one AMI login per server, shared by the requests within LIVE_BOARD_CACHE_SECONDS:
PJSIPShowContacts and DeviceStateList): an in-process
AMI server (telephony/tests/fakes/ami.py, whose replies are copied from a real Asterisk 22's)
answers with every phone registered and the live-call half in use, so the time includes that
round trip over loopback TCP. Removes everything it
created at the end. Prints p50/p99 latency; target p99 <= 100 ms at 300 agents, so 20 open
boards cost well under one CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autodialer.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

# whitenoise: no collectstatic was run for a benchmark.
warnings.filterwarnings("ignore", "No directory at")

from bulk_create import ensure_database  # noqa: E402

TARGET_P99_MS = 100.0
SERVER_NAME = "benchmark-live-board"
PREFIX = "bench-live-"
FIRST_EXTENSION = 800_000


def clean() -> None:
    from django.contrib.auth import get_user_model

    from telephony.models import AsteriskServer, Call, Phone, PsContact

    Call.objects.filter(server__name=SERVER_NAME).delete()
    PsContact.objects.filter(id__startswith=PREFIX).delete()
    Phone.objects.filter(server__name=SERVER_NAME).delete()
    AsteriskServer.objects.filter(name=SERVER_NAME).delete()
    get_user_model().objects.filter(username__startswith=PREFIX).delete()


def populate(agents: int, calls_per_agent: int, ami) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from telephony.models import AsteriskServer, Call, PsContact
    from telephony.services.phones import phone_bulk_create

    server = AsteriskServer.objects.create(
        name=SERVER_NAME, host="127.0.0.1", ami_host=ami.host, ami_port=ami.port,
        ami_username=ami.username, ami_password=ami.secret, ari_host="192.0.2.1",
        ari_username="bench", ari_password="bench-password")
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{PREFIX}{n:04d}", password="!") for n in range(agents)])
    users = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    Group.objects.get(name="Agent").user_set.add(*users)
    phones = phone_bulk_create(start=str(FIRST_EXTENSION),
                               end=str(FIRST_EXTENSION + agents - 1),
                               name_pattern="Desk {ext}", server=server)
    for phone, user in zip(phones, users, strict=True):
        phone.user = user
    type(phones[0]).objects.bulk_update(phones, ["user"])
    expires = int(time.time()) + 3600
    PsContact.objects.bulk_create([
        PsContact(id=f"{PREFIX}{p.extension};@x", endpoint=p.extension,
                  uri=f"sip:{p.extension}@192.0.2.10", user_agent="MicroSIP/3.21.3",
                  via_addr="192.0.2.10", via_port=5060, expiration_time=expires)
        for p in phones])
    from telephony.tests.fakes.ami import registered_endpoint

    ami.endpoints = {p.extension: registered_endpoint(p.extension) for p in phones}
    ami.device_states = {f"PJSIP/{p.extension}": "INUSE" if index % 2 else "NOT_INUSE"
                         for index, p in enumerate(phones)}
    now = timezone.now()
    calls = []
    for index, phone in enumerate(phones):
        for n in range(calls_per_agent):
            started = now - timedelta(minutes=5 * (n + 1))
            calls.append(Call(user=phone.user, phone=phone, server=server, number="+15551234567",
                              status=Call.Status.COMPLETED, answered_at=started,
                              ended_at=started + timedelta(seconds=90), duration=90))
        if index % 2:
            calls.append(Call(user=phone.user, phone=phone, server=server,
                              number="+15557654321", status=Call.Status.ANSWERED,
                              answered_at=now - timedelta(seconds=30)))
    Call.objects.bulk_create(calls, batch_size=2000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--calls-per-agent", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true",
                        help="print where the requests' time goes (cProfile, top 25)")
    args = parser.parse_args()

    django.setup()
    ensure_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0, interactive=False)
    clean()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    from telephony.tests.fakes.ami import FakeAmiServer

    ami = FakeAmiServer()
    ami.__enter__()
    try:
        populate(args.agents, args.calls_per_agent, ami)
        supervisor = get_user_model().objects.create_user(f"{PREFIX}supervisor", password="x")
        supervisor.groups.add(Group.objects.get(name="Supervisor"))
        client = Client()
        client.force_login(supervisor)
        url = reverse("telephony:live_board_fragment")
        queries = []  # not CaptureQueriesContext: request_started empties its log

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            first = client.get(url)
        assert first.status_code == 200, first.status_code
        rows = first.content.decode().count("data-agent=")
        assert rows == args.agents, rows
        timings = []
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(f"live board: {args.agents} agents, {args.agents * args.calls_per_agent:,} calls "
              f"today, {len(queries)} queries per request (session and auth included), "
              f"{ami.login_count} AMI logins for {args.requests + 1} requests")
        p90 = timings[int(len(timings) * 0.9)]
        print(f"{args.requests} requests: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
              f"max {timings[-1]:.1f} ms; target p99 <= "
              f"{TARGET_P99_MS:.0f} ms: {'OK' if p99 <= TARGET_P99_MS else 'MISSED'}")
    finally:
        clean()
        ami.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
