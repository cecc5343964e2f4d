"""Benchmark: the extension list with 15,000 extensions (docs/extensions.md has the numbers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \
        .venv/bin/python benchmarks/extensions_list.py

Creates the database if it is missing, migrates it, bulk-creates the extensions (a tenth of them
assigned to agents, every tenth inactive, 200 registered) and removes everything it created
at the end. The list asks Asterisk for the registrations (one AMI login: PJSIPShowContacts and
DeviceStateList) at most once per REGISTRATION_CACHE_SECONDS (default 10; set it to 0 in the
environment to ask on every page): an in-process AMI server (telephony/tests/fakes/ami.py,
whose replies are copied from a real Asterisk 22's) answers with the 200 phones registered, so
the time includes that round trip over loopback TCP whenever the snapshot is asked again.
Renders the real page through Django's test client (the view, the template, the AMI round
trip) for the first, a middle and the last
page at every page size, each sort key both ways and the filters; prints p50/p95 per case, the
CPU time, and the SQL query count of each, which must be the same for every case (target:
p95 <= 150 ms). `--profile 500` prints cProfile's view of --runs pages of 500 instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autodialer.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402
from bulk_create import ensure_database  # noqa: E402  (the same database set-up)

TARGET_MS = 150.0
SERVER_NAME = "benchmark-list-server"
PREFIX = "bench-list-"


def clean() -> None:
    from telephony.models import AsteriskServer, Phone, PsContact
    from users.models import User

    PsContact.objects.filter(id__startswith=PREFIX).delete()
    Phone.objects.filter(server__name=SERVER_NAME).delete()  # the realtime rows go with them
    AsteriskServer.objects.filter(name=SERVER_NAME).delete()
    User.objects.filter(username__startswith=PREFIX).delete()


def populate(count: int, start: int, ami) -> None:
    from django.contrib.auth.models import Group

    from telephony.models import AsteriskServer, Phone, PsContact
    from telephony.services.phones import MAX_BULK, phone_bulk_create
    from telephony.tests.fakes.ami import registered_endpoint
    from users.models import User

    server = AsteriskServer.objects.create(
        name=SERVER_NAME, host="127.0.0.1", ami_host=ami.host, ami_port=ami.port,
        ami_username=ami.username, ami_password=ami.secret, ari_host="192.0.2.1",
        ari_username="bench", ari_password="bench-password")
    first = start
    while first < start + count:
        last = min(first + MAX_BULK, start + count) - 1
        phone_bulk_create(start=str(first), end=str(last), name_pattern="Agent {ext}",
                          server=server)
        first = last + 1
    agents = Group.objects.get(name="Agent")
    users = User.objects.bulk_create(
        [User(username=f"{PREFIX}{n:05d}") for n in range(count // 10)])
    agents.user_set.add(*users)
    phones = list(Phone.objects.filter(server=server).order_by("extension")[:count // 10])
    for phone, user in zip(phones, users, strict=True):
        phone.user = user
    Phone.objects.bulk_update(phones, ["user"], batch_size=1000)
    Phone.objects.filter(server=server, extension__endswith="7").update(is_active=False)
    PsContact.objects.bulk_create([
        PsContact(id=f"{PREFIX}{phone.extension}", endpoint=phone.extension,
                  uri=f"sip:{phone.extension}@192.0.2.9:5060", expiration_time=9_999_999_999,
                  user_agent="bench")
        for phone in phones[:200]])
    ami.endpoints = {phone.extension: registered_endpoint(phone.extension)
                     for phone in phones[:200]}
    User.objects.create_user(f"{PREFIX}admin").groups.add(Group.objects.get(name="Admin"))


def cases(count: int) -> list[tuple[str, dict]]:
    out = []
    for size in (25, 50, 100, 250, 500):
        last = (count + size - 1) // size
        for number in (1, last // 2, last):
            out.append((f"page {number}/{last} at {size}", {"per_page": size, "page": number}))
    for key in ("extension", "name", "agent", "server", "context", "active"):
        for sign in ("", "-"):
            out.append((f"sort {sign}{key}", {"sort": sign + key, "page": 7}))
    out += [
        ("filter q=12 (substring)", {"q": "12"}),
        ("filter q=agent user", {"q": f"{PREFIX}0042"}),
        ("filter assigned=yes sort -agent", {"assigned": "yes", "sort": "-agent"}),
        ("filter active=no page 3", {"active": "no", "page": 3}),
        ("filter assigned=no active=yes sort name", {"assigned": "no", "active": "yes",
                                                     "sort": "name", "per_page": 100}),
    ]
    return out


def profile(client, url: str, params: dict, runs: int) -> None:
    import cProfile
    import pstats

    client.get(url, params)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(url, params)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=15_000)
    parser.add_argument("--start", type=int, default=800_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", metavar="PER_PAGE", type=int,
                        help="cProfile --runs requests of the first page at this size and "
                             "print where the time goes, instead of the timings")
    args = parser.parse_args()

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from telephony.tests.fakes.ami import FakeAmiServer
    from users.models import User

    # No collectstatic here: the manifest storage of production would refuse {% static %}.
    override_settings(STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()
    call_command("migrate", verbosity=0, interactive=False)
    clean()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    ami = FakeAmiServer()
    ami.__enter__()
    try:
        started = time.perf_counter()
        populate(args.count, args.start, ami)
        print(f"populated {args.count:,} extensions in {time.perf_counter() - started:.1f} s")
        client = Client()
        client.force_login(User.objects.get(username=f"{PREFIX}admin"))
        url = reverse("telephony:phone_list")
        if args.profile:
            profile(client, url, {"per_page": args.profile}, args.runs)
            return 0
        query_counts, worst = set(), {"sort/filter at 50 a page": 0.0, "page sizes": 0.0}
        # The CPU time of this process (the view, the template, the AMI client and the fake
        # Asterisk; not PostgreSQL's): on a shared, loaded machine it moves much less than the
        # wall-clock time, so it tells whether a change made the page cheaper.
        print(f"{'case':44} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'queries':>8}")
        for label, params in cases(args.count):
            client.get(url, params)  # warm
            timings, cpu = [], []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as queries:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.get(url, params)
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200, (label, response.status_code)
            # Asterisk (the fake) answered: not the database fallback.
            assert b"could not be asked" not in response.content, label
            query_counts.add(len(queries))
            p95 = statistics.quantiles(timings, n=20)[-1]
            kind = "page sizes" if label.startswith("page ") else "sort/filter at 50 a page"
            worst[kind] = max(worst[kind], p95)
            print(f"{label:44} {statistics.median(timings):8.1f} {p95:8.1f} "
                  f"{statistics.median(cpu):8.1f} {len(queries):8d}")
        print(f"query count per page: {sorted(query_counts)} "
              f"({'constant' if len(query_counts) == 1 else 'NOT constant'})")
        for kind, value in worst.items():
            print(f"worst p95, {kind}: {value:.1f} ms; target <= {TARGET_MS:.0f} ms: "
                  f"{'OK' if value <= TARGET_MS else 'MISSED'}")
        print(f"{ami.login_count} AMI logins; load average "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        clean()
        ami.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
