"""CSV import of leads as a background job: upload → preview and column mapping → dry run or
import, run by the django-tasks worker (`manage.py db_worker`), with progress, cancel and
resume.

The LeadImport row is the job's whole state. `lead_import_run` processes the stored file in
batches; each batch inserts its leads, records its issues and advances `rows_done` in one
transaction, and only while the row still carries this run's `run_token`. So a run that dies
(worker restart) loses at most an uncommitted batch, a resumed run starts after the last
committed one, and a stale run that wakes up after a resume stops at its next batch. The file
is read line by line and only one batch is held in memory.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import secrets
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from telephony.models import DncEntry, Lead, LeadImport, LeadImportIssue, LeadList
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.csv_table import sniff_delimiter
from telephony.services.lead_csv import (
    MAX_COLUMNS,
    SNIFF_BYTES,
    check_text,
    decode_line,
    decoded_lines,
    guess_header,
    guess_mapping,
    mapping_validate,
    row_read,
)
from telephony.services.lead_rows import lead_rows_insert

BATCH = 1000
# Imports of at least this many leads refresh the table's planner statistics when they end.
ANALYZE_AFTER = 5000
PREVIEW_ROWS = 10
Issue = LeadImportIssue.Kind


# --- reading the stored file -------------------------------------------------------------

class _CountingLines:
    """The file's lines for csv.reader, counting the bytes handed out: csv pulls a line only
    when it needs one, so after a row the count is where the next row starts."""

    def __init__(self, handle, first: bool) -> None:
        self.handle, self.first, self.consumed = handle, first, 0

    def __iter__(self):
        for raw in self.handle:
            self.consumed += len(raw)
            if self.first:
                raw, self.first = raw.removeprefix(b"\xef\xbb\xbf"), False
            yield decode_line(raw)


def _rows_from(lead_import: LeadImport, offset: int, line: int
               ) -> Iterator[tuple[int, list[str], int]]:
    """(line number, cells, offset after the row) of the data rows from `offset` on."""
    with lead_import.file.storage.open(lead_import.file.name, "rb") as stored:
        # The plain file under Django's File: File.__iter__ seeks back to 0 before reading.
        handle = getattr(stored, "file", stored)
        handle.seek(offset)
        lines = _CountingLines(handle, first=offset == 0)
        reader = csv.reader(lines, delimiter=lead_import.delimiter)
        for cells in reader:
            number = line + reader.line_num
            if number == 1 and lead_import.has_header:
                continue
            if not any(cell.strip() for cell in cells):
                continue
            yield number, cells, offset + lines.consumed


def _head(lead_import: LeadImport, count: int) -> list[list[str]]:
    with lead_import.file.open("rb") as stored:
        reader = csv.reader(decoded_lines(stored.file), delimiter=lead_import.delimiter)
        return list(itertools.islice((row for row in reader if row), count))


# --- upload, preview, mapping ------------------------------------------------------------

def lead_import_upload(*, lead_list: LeadList, upload: Any, user: Any = None) -> LeadImport:
    """Store an uploaded CSV and guess its encoding, delimiter, header and mapping.
    Refuses (CampaignServiceError, nothing stored) what is too big, empty or not text."""
    limit = settings.LEAD_IMPORT_MAX_MB * 1024 * 1024
    if upload.size > limit:
        raise CampaignServiceError(
            f"The file is {upload.size / 1024 / 1024:.0f} MB; the limit is "
            f"{settings.LEAD_IMPORT_MAX_MB} MB. Split it into several files.")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    encoding = check_text(head)
    lines = list(decoded_lines(head.splitlines(keepends=True)[:20]))
    delimiter = sniff_delimiter(lines)
    rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
    if not rows:
        raise CampaignServiceError("The file has no rows.")
    if max(len(row) for row in rows) > MAX_COLUMNS:
        raise CampaignServiceError(f"The file has more than {MAX_COLUMNS} columns.")
    has_header = guess_header(rows[0])
    header = rows[0] if has_header else None
    mapping = guess_mapping(header, rows[1:] if has_header else rows)
    upload.seek(0)
    lead_import = LeadImport(lead_list=lead_list, original_name=(upload.name or "leads.csv")[:200],
                             size=upload.size, encoding=encoding, delimiter=delimiter,
                             has_header=has_header, mapping=mapping, created_by=user)
    lead_import.file.save(f"{secrets.token_hex(8)}.csv", File(upload), save=False)
    lead_import.save()
    return lead_import


def lead_import_preview(*, lead_import: LeadImport) -> dict:
    rows = _head(lead_import, PREVIEW_ROWS + 1)
    header = rows[0] if lead_import.has_header and rows else None
    body = rows[1:] if header else rows
    width = max([len(row) for row in rows] or [0])
    names = [(header[index] if header and index < len(header) else f"Column {index + 1}")
             for index in range(width)]
    return {"columns": names, "rows": [row + [""] * (width - len(row)) for row in body],
            "width": width}


def lead_import_configure(*, lead_import: LeadImport, mapping: dict,
                          has_header: bool) -> LeadImport:
    if lead_import.status != LeadImport.Status.UPLOADED:
        raise CampaignServiceError("This import has already started.")
    width = lead_import_preview(lead_import=lead_import)["width"]
    lead_import.mapping = mapping_validate(mapping, width)
    lead_import.has_header = has_header
    lead_import.save(update_fields=["mapping", "has_header"])
    return lead_import


# --- start, cancel, resume -----------------------------------------------------------------

def _count_rows(lead_import: LeadImport) -> int:
    count = 0
    with lead_import.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            count += chunk.count(b"\n")
            last = chunk
    if count == 0 or not last.endswith(b"\n"):
        count += 1
    return max(0, count - (1 if lead_import.has_header else 0))


def _enqueue(lead_import: LeadImport) -> None:
    def send() -> None:
        result = lead_import_task.enqueue(lead_import.pk)
        LeadImport.objects.filter(pk=lead_import.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(send)


def lead_import_start(*, lead_import: LeadImport, dry_run: bool) -> LeadImport:
    """Queue the job: a dry run (counts only, nothing written) or the import itself."""
    mapping_validate(lead_import.mapping, MAX_COLUMNS)
    with transaction.atomic():
        started = LeadImport.objects.filter(
            pk=lead_import.pk, status=LeadImport.Status.UPLOADED).update(
            status=LeadImport.Status.QUEUED, dry_run=dry_run, rows_total=_count_rows(lead_import))
        if not started:
            raise CampaignServiceError("This import has already started.")
        _enqueue(lead_import)
    lead_import.refresh_from_db()
    return lead_import


def lead_import_cancel(*, lead_import: LeadImport) -> LeadImport:
    """Stop after the batch in progress. The leads already added stay (resume goes on). A
    stalled import (its worker died) is cancelled at once: nobody would see the request."""
    now = timezone.now()
    if lead_import_is_stale(lead_import):
        # A new token: should the old run wake up after all, its next batch finds it changed.
        LeadImport.objects.filter(pk=lead_import.pk, heartbeat_at=lead_import.heartbeat_at,
                                  status__in=[LeadImport.Status.RUNNING,
                                              LeadImport.Status.CANCEL_REQUESTED]).update(
            status=LeadImport.Status.CANCELLED, finished_at=now, run_token=secrets.token_hex(16),
            message="Cancelled after its worker stopped; resume to go on.")
    LeadImport.objects.filter(pk=lead_import.pk, status=LeadImport.Status.QUEUED).update(
        status=LeadImport.Status.CANCELLED, finished_at=now, message="Cancelled before it began.")
    LeadImport.objects.filter(pk=lead_import.pk, status=LeadImport.Status.RUNNING).update(
        status=LeadImport.Status.CANCEL_REQUESTED)
    lead_import.refresh_from_db()
    return lead_import


def lead_import_is_stale(lead_import: LeadImport, *, now: datetime.datetime | None = None) -> bool:
    """Running without a heartbeat for JOB_STALE_SECONDS: its worker was restarted (the rule
    of every background job, telephony/models/jobs.py); it may be resumed."""
    return lead_import.is_stale(now=now)


def lead_import_resume(*, lead_import: LeadImport) -> LeadImport:
    """Queue a cancelled, failed or stalled (its worker died) import again; it continues
    after the last batch it committed."""
    resumable = (lead_import.status in (LeadImport.Status.CANCELLED, LeadImport.Status.FAILED)
                 or lead_import_is_stale(lead_import))
    if not resumable or not lead_import.file:
        raise CampaignServiceError("Only a cancelled, failed or stalled import can be resumed.")
    with transaction.atomic():
        # A new token: a stalled run that wakes up finds it changed and stops.
        LeadImport.objects.filter(pk=lead_import.pk).update(
            status=LeadImport.Status.QUEUED, run_token=secrets.token_hex(16), message="",
            finished_at=None)
        _enqueue(lead_import)
    lead_import.refresh_from_db()
    return lead_import


def lead_imports_resume_stale() -> list[int]:
    """Resume every stalled import (for a worker's start-up or a cron job)."""
    resumed = []
    for lead_import in LeadImport.objects.filter(status__in=[
            LeadImport.Status.RUNNING, LeadImport.Status.CANCEL_REQUESTED]):
        if lead_import_is_stale(lead_import):
            lead_import_resume(lead_import=lead_import)
            resumed.append(lead_import.pk)
    return resumed


# --- the job -------------------------------------------------------------------------------

class _Superseded(Exception):
    """Another run owns the import now."""


def lead_import_claim(*, import_id: int) -> str | None:
    """Take a queued import for this run; returns the run's token, None when not queued."""
    token = secrets.token_hex(16)
    now = timezone.now()
    claimed = LeadImport.objects.filter(pk=import_id, status=LeadImport.Status.QUEUED).update(
        status=LeadImport.Status.RUNNING, run_token=token, heartbeat_at=now)
    if not claimed:
        return None
    LeadImport.objects.filter(pk=import_id, started_at__isnull=True).update(started_at=now)
    return token


def lead_import_step(*, import_id: int, token: str, batch_size: int = BATCH,
                     seen: set[str] | None = None) -> bool:
    """Process the next batch of a claimed import; True while there is more to do.
    Finishes the import (done, or cancelled when asked) when it returns False."""
    lead_import = LeadImport.objects.select_related("lead_list__campaign").get(pk=import_id)
    if lead_import.run_token != token:
        return False  # resumed by another run meanwhile
    if lead_import.status == LeadImport.Status.CANCEL_REQUESTED:
        _finish(import_id, token, LeadImport.Status.CANCELLED, "Cancelled; resume to go on.")
        return False
    campaign = lead_import.lead_list.campaign
    header = _head(lead_import, 1)[0] if lead_import.has_header else None
    chunk = list(itertools.islice(
        _rows_from(lead_import, lead_import.byte_offset, lead_import.lines_done), batch_size))
    if not chunk:
        _complete(lead_import, token)
        return False
    results = [row_read(cells, line=line, mapping=lead_import.mapping, header=header,
                        region=lead_import.lead_list.default_region,
                        default_zone=campaign.default_timezone)
               for line, cells, _offset in chunk]
    try:
        _write_batch(lead_import, token, results, seen if seen is not None else set(),
                     offset=chunk[-1][2])
    except _Superseded:
        return False
    return True


def lead_import_run(*, import_id: int, batch_size: int = BATCH) -> LeadImport | None:
    """The job: claim a queued import and run its steps to the end (or the cancel)."""
    token = lead_import_claim(import_id=import_id)
    if token is None:
        return None
    seen: set[str] = set()  # dry runs only: nothing in the database to find duplicates with
    try:
        while lead_import_step(import_id=import_id, token=token, batch_size=batch_size,
                               seen=seen):
            pass
    except Exception as exc:
        _finish(import_id, token, LeadImport.Status.FAILED,
                f"Stopped by an error: {type(exc).__name__}. Resume to try again.")
        raise
    return LeadImport.objects.get(pk=import_id)


def _complete(lead_import: LeadImport, token: str) -> None:
    message = ""
    if lead_import.dry_run:
        duplicates = lead_import.duplicates_in_file + lead_import.duplicates_in_campaign
        message = (f"{lead_import.imported:,} new, {duplicates:,} duplicates, "
                   f"{lead_import.rejected:,} rejected. Nothing was written.")
    _finish(lead_import.pk, token, LeadImport.Status.DONE, message)
    if not lead_import.dry_run:
        lead_import.file.delete(save=False)
        LeadImport.objects.filter(pk=lead_import.pk).update(file="")
        if lead_import.imported >= ANALYZE_AFTER:
            _refresh_statistics()


def _refresh_statistics() -> None:
    """Tell PostgreSQL's planner about the new rows now rather than at autovacuum's next pass:
    on a table it still believed small, it counted 100,000 fresh leads for the campaign page
    with a per-row plan (and JIT) in 220-370 ms instead of 70 ms. (MariaDB's InnoDB
    recalculates its statistics itself once a tenth of a table changed, and its ANALYZE TABLE
    would commit the caller's transaction.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Lead._meta.db_table)}")


def _cancel_requested(import_id: int) -> bool:
    return LeadImport.objects.filter(pk=import_id,
                                     status=LeadImport.Status.CANCEL_REQUESTED).exists()


def _finish(import_id: int, token: str, status: str, message: str) -> LeadImport:
    LeadImport.objects.filter(pk=import_id, run_token=token).update(
        status=status, message=message[:500], finished_at=timezone.now(),
        heartbeat_at=timezone.now())
    return LeadImport.objects.get(pk=import_id)


def _write_batch(lead_import: LeadImport, token: str, results: list, seen: set[str], *,
                 offset: int) -> None:
    lead_list = lead_import.lead_list
    campaign_id = lead_list.campaign_id
    issues: list[LeadImportIssue] = []
    good = {}
    counts = {"rejected": 0, "duplicates_in_file": 0, "duplicates_in_campaign": 0,
              "on_dnc": 0, "zones_guessed": 0}

    def issue(result, kind: str, reason: str, value: str) -> None:
        issues.append(LeadImportIssue(lead_import_id=lead_import.pk, line=result.line,
                                      kind=kind, value=value[:200], reason=reason[:300]))

    for result in results:
        if result.reason:
            counts["rejected"] += 1
            issue(result, Issue.REJECTED, result.reason, result.value)
        elif result.e164 in good or result.e164 in seen:
            counts["duplicates_in_file"] += 1
            issue(result, Issue.DUPLICATE_IN_FILE, "The number is on an earlier line of the "
                                                   "file.", result.e164)
        else:
            good[result.e164] = result
    numbers = list(good)
    existing = dict(Lead.objects.filter(campaign_id=campaign_id, phone_number__in=numbers)
                    .values_list("phone_number", "lead_import_id"))
    for number, import_id in existing.items():
        result = good.pop(number)
        if import_id == lead_import.pk:
            counts["duplicates_in_file"] += 1
            issue(result, Issue.DUPLICATE_IN_FILE, "The number is on an earlier line of the "
                                                   "file.", number)
        else:
            counts["duplicates_in_campaign"] += 1
            issue(result, Issue.DUPLICATE_IN_CAMPAIGN, "The campaign already has a lead with "
                                                       "this number.", number)
    listed = set(DncEntry.objects.filter(number__in=list(good)).filter(
        campaign_id__in=[campaign_id]).values_list("number", flat=True)) | set(
        DncEntry.objects.filter(number__in=list(good), campaign__isnull=True)
        .values_list("number", flat=True))
    leads = []
    for number, result in good.items():
        on_dnc = number in listed
        counts["on_dnc"] += on_dnc
        counts["zones_guessed"] += result.fields["timezone_guessed"]
        leads.append(dict(result.fields, campaign_id=campaign_id, lead_list_id=lead_list.pk,
                          lead_import_id=lead_import.pk, source_line=result.line,
                          phone_number=number,
                          state=Lead.State.DNC if on_dnc else Lead.State.NEW))
    last_line = results[-1].line if results else lead_import.lines_done
    with transaction.atomic():
        # Only while this run still owns the import: the UPDATE is the check.
        from django.db.models import F

        owned = LeadImport.objects.filter(
            pk=lead_import.pk, run_token=token,
            status__in=[LeadImport.Status.RUNNING, LeadImport.Status.CANCEL_REQUESTED]).update(
            rows_done=F("rows_done") + len(results), lines_done=last_line, byte_offset=offset,
            imported=F("imported") + len(leads), heartbeat_at=timezone.now(),
            **{name: F(name) + value for name, value in counts.items()})
        if not owned:
            raise _Superseded
        if not lead_import.dry_run and leads:
            lead_rows_insert(leads)
        LeadImportIssue.objects.bulk_create(issues, batch_size=BATCH)
    if lead_import.dry_run:
        seen.update(lead["phone_number"] for lead in leads)


def lead_import_progress(lead_import: LeadImport) -> dict:
    """What the progress bar polls: rows done, rejected so far, ETA."""
    total = lead_import.rows_total or 0
    eta = None
    if (lead_import.status == LeadImport.Status.RUNNING and lead_import.started_at
            and lead_import.rows_done and total):
        elapsed = (timezone.now() - lead_import.started_at).total_seconds()
        eta = round(elapsed / lead_import.rows_done * max(0, total - lead_import.rows_done))
    return {
        "status": lead_import.status,
        # The words of every background job's page (templates/import_job.html).
        "status_label": "Stalled: the worker stopped" if lead_import_is_stale(lead_import)
        else lead_import.get_status_display(),
        "dry_run": lead_import.dry_run, "rows_total": total, "rows_done": lead_import.rows_done,
        "percent": min(100, round(100 * lead_import.rows_done / total)) if total else 0,
        "imported": lead_import.imported, "rejected": lead_import.rejected,
        "duplicates_in_file": lead_import.duplicates_in_file,
        "duplicates_in_campaign": lead_import.duplicates_in_campaign,
        "on_dnc": lead_import.on_dnc, "zones_guessed": lead_import.zones_guessed,
        "eta_seconds": eta, "message": lead_import.message,
        "stale": lead_import_is_stale(lead_import),
        "finished": lead_import.status in (LeadImport.Status.DONE, LeadImport.Status.CANCELLED,
                                           LeadImport.Status.FAILED),
    }


# The job lives beside the code it runs (not in a tasks module that would import this one back
# while this one enqueues it): `manage.py db_worker` finds it by its dotted path.
@task()
def lead_import_task(import_id: int) -> None:
    lead_import_run(import_id=import_id)
