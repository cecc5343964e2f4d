"""A confirmed extensions CSV import big enough to outlast a web request, run by the
django-tasks worker (`manage.py db_worker`, as for lead imports) with progress.

The job runs `phone_csv_import` itself on the bytes and fingerprint the admin confirmed: the
same single transaction, the same locked re-check against the plan, so it writes exactly what
the synchronous confirmation would, or nothing (PlanChanged, a refused file, an error).

Its progress is counted inside that transaction, where nobody else can see it; so it is
written through a second connection of its own, committed at once. SQLite has one writer at a
time and the import's transaction holds it: there the page shows "Running" until the end.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone
from django_tasks import task

from telephony.models import PhoneImportJob
from telephony.services.csv_table import CsvRefused, PlanChanged
from telephony.services.phone_csv import phone_csv_import

# Confirmed imports writing more extensions than this run in the background.
BACKGROUND_AFTER = 500
Status = PhoneImportJob.Status
PROGRESS_FIELDS = ("rows_total", "rows_checked", "writes_total", "rows_written")


def phone_import_enqueue(*, data: bytes, fingerprint: str, user=None,
                         writes: int = 0) -> PhoneImportJob:
    """Store the confirmed file and queue the job (sent once this transaction commits)."""
    job = PhoneImportJob.objects.create(data=data, fingerprint=fingerprint, created_by=user,
                                        writes_total=writes)

    def send() -> None:
        result = phone_import_task.enqueue(job.pk)
        PhoneImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(send)
    return job


class _Progress:
    """Writes the counts to the job row through a connection outside the import's transaction.
    Best effort: a failure stops the reporting, never the import."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.side = None if connection.vendor == "sqlite" else \
            connections.create_connection(DEFAULT_DB_ALIAS)
        self.counts: dict[str, int] = {}

    def __call__(self, **counts: int) -> None:
        self.counts.update(counts)
        if self.side is None:
            return
        fields = [name for name in PROGRESS_FIELDS if name in counts]
        table = self.side.ops.quote_name(PhoneImportJob._meta.db_table)
        sets = ", ".join(f"{self.side.ops.quote_name(name)} = %s" for name in fields)
        try:
            with self.side.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s",
                               [counts[name] for name in fields] + [self.job_id])
        except DatabaseError:
            self.close()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def phone_import_run(*, job_id: int) -> PhoneImportJob | None:
    """The job: claim a queued import, run the confirmation, record the outcome."""
    claimed = PhoneImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return None  # already run (a duplicate delivery)
    job = PhoneImportJob.objects.get(pk=job_id)
    progress = _Progress(job_id)
    outcome: dict = {}
    try:
        plan = phone_csv_import(data=bytes(job.data), fingerprint=job.fingerprint,
                                progress=progress)
    except PlanChanged:
        outcome = {"status": Status.FAILED,
                   "message": "Something changed since the dry run (another admin, or the "
                              "file); nothing was written. Upload the file again to see the "
                              "new dry run."}
    except CsvRefused as exc:
        outcome = {"status": Status.FAILED, "message": f"The file was refused: {exc.message}"}
    except Exception as exc:
        outcome = {"status": Status.FAILED,
                   "message": f"Stopped by an error, nothing was written: "
                              f"{type(exc).__name__}: {exc}"}
        raise  # the worker logs the traceback
    else:
        outcome = {"status": Status.DONE, "created": len(plan.created),
                   "updated": len(plan.updated), "rejected": plan.rejected,
                   "message": f"{len(plan.created)} new, {len(plan.updated)} updated, "
                              f"{plan.rejected} rejected."}
    finally:
        progress.close()
        counts = {name: value for name, value in progress.counts.items()
                  if name in PROGRESS_FIELDS}
        if outcome.get("status") != Status.DONE:
            counts["rows_written"] = 0  # rolled back
        outcome["message"] = outcome.get("message", "")[:500]
        PhoneImportJob.objects.filter(pk=job_id).update(
            data=b"", finished_at=timezone.now(), **counts, **outcome)
    return PhoneImportJob.objects.get(pk=job_id)


def phone_import_progress(job: PhoneImportJob) -> dict:
    """What the status page polls (the lead import's progress script reads these keys)."""
    # The check and the write count half each.
    done = (job.rows_checked / job.rows_total if job.rows_total else 0) + \
        (job.rows_written / job.writes_total if job.writes_total else 0)
    percent = 100 if job.status == Status.DONE else min(99, round(50 * done))
    return {
        "status": job.status, "status_label": job.get_status_display(),
        "rows_total": job.rows_total, "rows_checked": job.rows_checked,
        "writes_total": job.writes_total, "rows_written": job.rows_written,
        "percent": percent, "eta_seconds": None, "message": job.message,
        "created": job.created, "updated": job.updated, "rejected": job.rejected,
        "finished": job.status in (Status.DONE, Status.FAILED),
    }


# Beside the code it runs, as lead_import_task: `manage.py db_worker` finds it by its path.
@task()
def phone_import_task(job_id: int) -> None:
    phone_import_run(job_id=job_id)
