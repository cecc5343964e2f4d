"""Benchmark: the CSV imports at their row limits, dry run and confirmed import.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench \\
        .venv/bin/python benchmarks/csv_imports.py

Creates the database if it is missing, migrates it, and removes everything it created at the
end. Prints the time of the extensions import's dry run (`phone_csv_check`) and confirmed
import (`phone_csv_import`) for 10,000 new extensions, and of the users import's for 500 new
agents who each get a new extension (`user_csv_check`, `user_csv_import`). Both run in the web
request: these numbers say whether that is still reasonable. Then the same extensions import
again as the background job (`phone_import_run`, what `manage.py db_worker` runs), from an
empty start again, in its batches of 1,000, and a users import of `--job-users` new agents
(2,000) as its background job (`user_import_run`, batches of 100). No target is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autodialer.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

from benchmarks.bulk_create import ensure_database  # noqa: E402

SERVER_NAME = "benchmark-server"
PREFIX = "bench-csv-"


def clean(extensions: list[str]) -> None:
    from telephony.models import AsteriskServer, Phone
    from telephony.realtime.phones import extensions_unsync
    from users.models import User

    extensions_unsync(extensions)
    Phone.objects.filter(server__name=SERVER_NAME).delete()
    AsteriskServer.objects.filter(name=SERVER_NAME).delete()
    User.objects.filter(username__startswith=PREFIX).delete()


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.2f} s -> {result.summary()}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extensions", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--job-users", type=int, default=2000)
    parser.add_argument("--start", type=int, default=800_000)
    args = parser.parse_args()

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection

    from telephony.models import AsteriskServer, Phone
    from telephony.realtime.phones import extensions_unsync
    from telephony.services.phone_csv import phone_csv_check, phone_csv_import
    from telephony.services.phone_import_job import phone_import_enqueue, phone_import_run
    from users.user_csv import user_csv_check, user_csv_import
    from users.user_import_job import user_import_enqueue, user_import_run

    call_command("migrate", verbosity=0, interactive=False)
    phones = [str(args.start + n) for n in range(args.extensions)]
    agents = [str(args.start + args.extensions + n) for n in range(args.users)]
    job_agents = [str(args.start + args.extensions + args.users + n)
                  for n in range(args.job_users)]
    clean(phones + agents + job_agents)
    AsteriskServer.objects.create(
        name=SERVER_NAME, host="192.0.2.1", ami_host="192.0.2.1", ami_username="bench",
        ami_password="bench-password", ari_host="192.0.2.1", ari_username="bench",
        ari_password="bench-password")
    from users.models import User

    actor = User.objects.create_superuser(f"{PREFIX}admin", password="bench-password-1")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    try:
        data = ("extension;name;server;context\r\n" + "".join(
            f"{ext};Desk {ext};{SERVER_NAME};agents\r\n" for ext in phones)).encode()
        timed(f"extensions dry run, {len(phones):,} rows", lambda: phone_csv_check(data=data))
        timed(f"extensions import, {len(phones):,} rows", lambda: phone_csv_import(data=data))
        extensions_unsync(phones)
        Phone.objects.filter(server__name=SERVER_NAME).delete()
        plan = phone_csv_check(data=data)

        def job():
            queued = phone_import_enqueue(data=data, fingerprint=plan.fingerprint,
                                          writes=plan.writes)
            done = phone_import_run(job_id=queued.pk)
            queued.delete()
            return SimpleNamespace(summary=lambda: f"{done.status}: {done.message}")
        timed(f"extensions import as the background job, {len(phones):,} rows", job)
        data = ("username;name;email;role;extension;server\r\n" + "".join(
            f"{PREFIX}{ext};Agent {ext};a{ext}@example.com;Agent;{ext};{SERVER_NAME}\r\n"
            for ext in agents)).encode()
        timed(f"users dry run, {len(agents):,} rows",
              lambda: user_csv_check(data=data, actor=actor))
        timed(f"users import, {len(agents):,} rows (each a new extension)",
              lambda: user_csv_import(data=data, actor=actor))
        data = ("username;name;email;role;extension;server\r\n" + "".join(
            f"{PREFIX}{ext};Agent {ext};a{ext}@example.com;Agent;{ext};{SERVER_NAME}\r\n"
            for ext in job_agents)).encode()
        users_plan = user_csv_check(data=data, actor=actor)

        def users_job():
            queued = user_import_enqueue(data=data, fingerprint=users_plan.fingerprint,
                                         user=actor, writes=users_plan.writes)
            done = user_import_run(job_id=queued.pk)
            queued.delete()
            return SimpleNamespace(summary=lambda: f"{done.status}: {done.message}")
        timed(f"users import as the background job, {len(job_agents):,} rows "
              "(each a new extension)", users_job)
    finally:
        clean(phones + agents + job_agents)
    return 0


if __name__ == "__main__":
    sys.exit(main())
