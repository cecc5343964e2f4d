"""A confirmed extensions CSV import big enough to outlast a web request, run by the
django-tasks worker (`manage.py db_worker`, as for lead imports) with progress, cancel and
stall detection.

The job checks the bytes the admin confirmed again against the plan they saw (its fingerprint)
and then writes the extensions in batches of `BATCH`, each with its realtime rows in its own
transaction, each re-checked with its rows locked (telephony/services/import_job.py says how).
What ends it early (a cancel, an error, a change since the dry run) leaves whole batches
written and nothing of the rest.
"""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from telephony.models import PhoneImportJob
from telephony.services.import_job import (
    ImportJobKind,
    import_job_cancel,
    import_job_enqueue,
    import_job_progress,
    import_job_run,
)
from telephony.services.jobs import job_requeue
from telephony.services.phone_csv import phone_csv_check, phone_csv_table, phone_csv_write_batch

# Extensions per batch: one bulk statement each for the phones and their three realtime
# tables, about 1 s on PostgreSQL; the heartbeat comes with every batch.
BATCH = 1000


def background_after() -> int:
    """Confirmed imports writing more extensions than this run in the background."""
    return settings.IMPORT_BACKGROUND_AFTER


def _check(table, progress):
    return phone_csv_check(table=table, progress=progress)


def _write(table, lines, expected):
    return phone_csv_write_batch(table=table, lines=lines, expected=expected)


def _kind() -> ImportJobKind:
    return ImportJobKind(model=PhoneImportJob, noun="extensions", batch_size=BATCH,
                         task=phone_import_task,
                         prepare=lambda job: phone_csv_table(bytes(job.data)),
                         check=_check, write=_write)


def phone_import_enqueue(*, data: bytes, fingerprint: str, user=None,
                         writes: int = 0) -> PhoneImportJob:
    """Store the confirmed file and queue the job (sent once this transaction commits)."""
    return import_job_enqueue(_kind(), data=data, fingerprint=fingerprint, user=user,
                              writes=writes)


def phone_import_run(*, job_id: int) -> PhoneImportJob | None:
    """The job: claim a queued import, check it and write its batches."""
    return import_job_run(_kind(), job_id=job_id)


def phone_import_cancel(*, job: PhoneImportJob) -> PhoneImportJob:
    return import_job_cancel(_kind(), job=job)


def phone_import_requeue(*, job: PhoneImportJob) -> PhoneImportJob:
    """Queue again an import whose worker stopped: it goes on with the first batch that was
    not committed."""
    return job_requeue(job=job, task=phone_import_task)


def phone_import_progress(job: PhoneImportJob) -> dict:
    return import_job_progress(job)


# Beside the code it runs, as lead_import_task: `manage.py db_worker` finds it by its path.
@task()
def phone_import_task(job_id: int) -> None:
    phone_import_run(job_id=job_id)
