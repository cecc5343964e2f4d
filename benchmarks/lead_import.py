"""Lead import and campaign counts at scale, on the database of DATABASE_URL (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_camp_bench \
        .venv/bin/python benchmarks/lead_import.py

Builds a fresh test database, writes CSV files of 10,000 and 100,000 leads (US numbers over
several area codes, some duplicates and bad rows), imports each through the same job the
worker runs (`lead_import_run`), and prints wall time and peak RSS growth; then times the
campaign page's "dialable now / blocked and why" counts over the 100,000 leads.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autodialer.settings")
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

AREA_CODES = ["212", "213", "312", "415", "602", "305", "404", "617", "206", "303"]


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        handle.write("phone,first_name,last_name,account\n")
        for index in range(rows):
            if index % 500 == 499:
                handle.write("555-CALL-NOW,Bad,Row,x\n")
                continue
            # Every 1000th row repeats the row before it (same area code and number): the
            # duplicates the import must report.
            source = index - 2 if index % 1000 == 0 and index else index
            area = AREA_CODES[source % len(AREA_CODES)]
            number = source % 9_000_000
            handle.write(f"({area}) {200 + number // 10000 % 800:03d}-{number % 10000:04d},"
                         f"First{index},Last{index},A-{index}\n")


def import_file(path: Path, name: str):
    from django.core.files import File

    from telephony.models import Campaign, LeadList
    from telephony.services.lead_import import (
        lead_import_run,
        lead_import_start,
        lead_import_upload,
    )

    campaign = Campaign.objects.create(name=f"Bench {name}", status="running")
    lead_list = LeadList.objects.create(campaign=campaign, name=name)
    before = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as handle:  # streamed like Django's temporary upload file
        lead_import = lead_import_upload(lead_list=lead_list, upload=File(handle, name=path.name))
    lead_import_start(lead_import=lead_import, dry_run=False)
    done = lead_import_run(import_id=lead_import.pk)
    elapsed = time.perf_counter() - started
    return campaign, done, elapsed, time.process_time() - cpu, rss_mb() - before


def main() -> None:
    from django.test.utils import get_runner

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings.MEDIA_ROOT = folder
            results = {}
            for rows in (10_000, 100_000):
                path = Path(folder) / f"leads-{rows}.csv"
                write_csv(path, rows)
                campaign, done, elapsed, cpu, growth = import_file(path, str(rows))
                results[rows] = campaign
                size = path.stat().st_size / 1e6
                print(f"{rows:>7,} rows ({size:.1f} MB): {elapsed:6.1f} s wall ({cpu:.1f} s CPU "
                      f"in this process; the rest is waiting for the database or a core), "
                      f"{done.imported:,} imported, {done.rejected:,} rejected, "
                      f"{done.duplicates_in_file:,} duplicates; peak RSS growth "
                      f"{growth:.0f} MB (peak {rss_mb():.0f} MB)")
            from django.utils import timezone

            from telephony.calling.selection import lead_counts

            campaign = results[100_000]
            lead_counts(campaign, timezone.now())  # warm the cache
            timings = []
            for _ in range(20):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    counts = lead_counts(campaign, timezone.now())
                    timings.append(time.perf_counter() - started)
            shown = {key: value for key, value in counts.items() if value}
            timings.sort()
            print(f"counts over {sum(counts.values()):,} leads, 20 runs: median "
                  f"{timings[10] * 1000:.0f} ms, p95 {timings[18] * 1000:.0f} ms, worst "
                  f"{timings[-1] * 1000:.0f} ms, {len(queries)} queries; {shown}")
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
