"""Benchmark: bulk actions on every matching extension ("select all N matching") at 15,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \\
        .venv/bin/python benchmarks/bulk_selection.py

Creates 15,000 extensions (a tenth assigned to agents), then, through Django's test client as
the page does (the admin's POST with scope=matching), shows the confirmation and confirms:
deactivate, activate, assign to another server, export, delete; prints the wall time and the
SQL query count of each, and checks the realtime rows afterwards. Removes what it created.
"""

from __future__ import annotations

import argparse
import os
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

SERVERS = ("benchmark-selection-1", "benchmark-selection-2")
PREFIX = "bench-sel-"


def clean() -> None:
    from telephony.models import AsteriskServer, Phone
    from users.models import User

    Phone.objects.filter(server__name__in=SERVERS).delete()  # the realtime rows go with them
    AsteriskServer.objects.filter(name__in=SERVERS).delete()
    User.objects.filter(username__startswith=PREFIX).delete()


def populate(count: int, start: int):
    from django.contrib.auth.models import Group

    from telephony.models import AsteriskServer, Phone
    from telephony.services.phones import MAX_BULK, phone_bulk_create
    from users.models import User

    servers = [AsteriskServer.objects.create(
        name=name, host="192.0.2.1", ami_host="192.0.2.1", ari_host="192.0.2.1",
        ami_username="bench", ami_password="bench-password", ari_username="bench",
        ari_password="bench-password") for name in SERVERS]
    first = start
    while first < start + count:
        last = min(first + MAX_BULK, start + count) - 1
        phone_bulk_create(start=str(first), end=str(last), name_pattern="Agent {ext}",
                          server=servers[0])
        first = last + 1
    users = User.objects.bulk_create(
        [User(username=f"{PREFIX}{n:05d}") for n in range(count // 10)])
    Group.objects.get(name="Agent").user_set.add(*users)
    phones = list(Phone.objects.filter(server=servers[0]).order_by("extension")[:count // 10])
    for phone, user in zip(phones, users, strict=True):
        phone.user = user
    Phone.objects.bulk_update(phones, ["user"], batch_size=1000)
    User.objects.create_user(f"{PREFIX}admin").groups.add(Group.objects.get(name="Admin"))
    return servers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=15_000)
    parser.add_argument("--start", type=int, default=700_000)
    args = parser.parse_args()

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from telephony.models import Phone, PsEndpoint
    from users.models import User

    override_settings(STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()
    call_command("migrate", verbosity=0, interactive=False)
    clean()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    try:
        started = time.perf_counter()
        servers = populate(args.count, args.start)
        print(f"populated {args.count:,} extensions in {time.perf_counter() - started:.1f} s")
        client = Client()
        client.force_login(User.objects.get(username=f"{PREFIX}admin"))
        url = reverse("telephony:phone_selection")
        base = {"scope": "matching", "filter_q": "Agent", "filter_server": servers[0].pk}
        ours = Phone.objects.filter(server__name__in=SERVERS)
        endpoints = PsEndpoint.objects.filter(id__in=ours.values("extension"))

        def run(label: str, data: dict) -> None:
            with CaptureQueriesContext(connection) as queries:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.post(url, {**base, **data})
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert response.status_code in (200, 302), (label, response.status_code)
            print(f"{label:40} {seconds:7.2f} s {cpu:7.2f} s {len(queries):7d}")

        # CPU: this process's (the view, the services, Django); the rest is the database's.
        print(f"{'step':40} {'wall':>9} {'CPU':>9} {'queries':>7}")
        run("confirmation page: deactivate", {"action": "deactivate"})
        run("confirm: deactivate", {"action": "deactivate", "confirm": "1"})
        assert not ours.filter(is_active=True).exists() and not endpoints.exists()
        run("confirm: activate", {"action": "activate", "confirm": "1"})
        assert endpoints.count() == args.count
        run("confirm: assign to another server", {"action": "server", "confirm": "1",
                                                 "server": servers[1].pk})
        base["filter_server"] = servers[1].pk
        run("export as CSV", {"action": "export"})
        run("confirmation page: delete", {"action": "delete"})
        run("confirm: delete", {"action": "delete", "confirm": "1"})
        assert not ours.exists() and not endpoints.exists()
        print("realtime rows checked after each step; load average "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        clean()
    return 0


if __name__ == "__main__":
    sys.exit(main())
