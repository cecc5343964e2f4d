"""Benchmark: bulk-create 10,000 extensions (phones + ps_aors/ps_auths/ps_endpoints rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \
        .venv/bin/python benchmarks/bulk_create.py

Creates the database if it is missing, migrates it, and removes everything it created at the
end. Prints the time of `phone_bulk_create` for 10,000 extensions (target: 5 s or less on
PostgreSQL) and, for comparison, the time of `Phone.save()` in a loop over a sample, extrapolated
to 10,000.
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

import django  # noqa: E402

TARGET_SECONDS = 5.0
SERVER_NAME = "benchmark-server"


def ensure_database() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        return
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")


def clean(first: int, last: int) -> None:
    from telephony.models import AsteriskServer, Phone
    from telephony.realtime.phones import extensions_unsync

    extensions = [str(number) for number in range(first, last + 1)]
    extensions_unsync(extensions)
    Phone.objects.filter(server__name=SERVER_NAME).delete()
    AsteriskServer.objects.filter(name=SERVER_NAME).delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=500,
                        help="phones saved one by one for the comparison")
    parser.add_argument("--start", type=int, default=700_000)
    args = parser.parse_args()

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection, transaction

    from telephony.models import AsteriskServer, Phone, PsAor, PsAuth, PsEndpoint
    from telephony.services.phones import phone_bulk_create

    call_command("migrate", verbosity=0, interactive=False)
    first, last = args.start, args.start + args.count - 1
    loop_first = last + 1
    loop_last = loop_first + args.sample - 1
    clean(first, loop_last)
    server = AsteriskServer.objects.create(
        name=SERVER_NAME, host="192.0.2.1", ami_host="192.0.2.1", ami_username="bench",
        ami_password="bench-password", ari_host="192.0.2.1", ari_username="bench",
        ari_password="bench-password")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    try:
        started = time.perf_counter()
        phones = phone_bulk_create(start=str(first), end=str(last), name_pattern="Agent {ext}",
                                   server=server)
        bulk = time.perf_counter() - started
        ids = [str(number) for number in range(first, last + 1)]
        counts = [model.objects.filter(id__in=ids[:1000]).count()
                  for model in (PsAor, PsAuth, PsEndpoint)]
        assert len(phones) == args.count and counts == [min(1000, args.count)] * 3, counts
        print(f"phone_bulk_create: {args.count:,} extensions + {3 * args.count:,} realtime rows "
              f"in {bulk:.2f} s ({args.count / bulk:,.0f} extensions/s); target <= "
              f"{TARGET_SECONDS:.0f} s: {'OK' if bulk <= TARGET_SECONDS else 'MISSED'}")

        started = time.perf_counter()
        with transaction.atomic():
            for number in range(loop_first, loop_last + 1):
                Phone(extension=str(number), name=f"Agent {number}", server=server).save()
        loop = time.perf_counter() - started
        per_phone = loop / args.sample
        extrapolated = per_phone * args.count
        print(f"Phone.save() loop: {args.sample:,} extensions in {loop:.2f} s "
              f"({per_phone * 1000:.2f} ms each) -> {extrapolated:.1f} s for {args.count:,} "
              "(extrapolated)")
        print(f"ratio: bulk create is {extrapolated / bulk:.1f}x faster than saving one by one")
    finally:
        clean(first, loop_last)
    return 0


if __name__ == "__main__":
    sys.exit(main())
