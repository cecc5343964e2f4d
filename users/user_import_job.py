"""A confirmed users CSV import of more than IMPORT_BACKGROUND_AFTER rows, run by the
django-tasks worker (`manage.py db_worker`) like the extensions import's job: the same check
against the dry run, then batches of `BATCH` rows, each whole in its own transaction and
re-checked with its rows locked (telephony/services/import_job.py says how), with progress,
cancel and stall detection.

The rows are checked again as the admin who confirmed the file (a superuser's rows, their own
role): still an active admin when the job runs, or it writes nothing.
"""

from __future__ import annotations

from django_tasks import task

from telephony.services.import_job import (
    ImportJobKind,
    import_job_cancel,
    import_job_enqueue,
    import_job_progress,
    import_job_run,
)
from telephony.services.jobs import JobError, job_requeue
from users.models import UserImportJob
from users.roles import ADMIN, has_any_role
from users.user_csv import user_csv_check, user_csv_table, user_csv_write_batch

# Users per batch: each row goes through the user form's services (about 30 queries with a new
# extension, ~16 ms), so a batch takes about 2 s and the heartbeat comes with each.
BATCH = 100


class _Prepared:
    def __init__(self, job: UserImportJob) -> None:
        actor = job.created_by
        if actor is None or not actor.is_active or not has_any_role(actor, (ADMIN,)):
            raise JobError("Refused: the admin who confirmed it is no longer an active admin.")
        self.actor = actor
        self.table = user_csv_table(bytes(job.data))


def _kind() -> ImportJobKind:
    return ImportJobKind(
        model=UserImportJob, noun="users", batch_size=BATCH, task=user_import_task,
        prepare=_Prepared,
        check=lambda prepared, progress: user_csv_check(
            table=prepared.table, actor=prepared.actor, progress=progress),
        write=lambda prepared, lines, expected: user_csv_write_batch(
            table=prepared.table, lines=lines, expected=expected, actor=prepared.actor))


def user_import_enqueue(*, data: bytes, fingerprint: str, user, writes: int = 0
                        ) -> UserImportJob:
    """Store the confirmed file and queue the job (sent once this transaction commits)."""
    return import_job_enqueue(_kind(), data=data, fingerprint=fingerprint, user=user,
                              writes=writes)


def user_import_run(*, job_id: int) -> UserImportJob | None:
    return import_job_run(_kind(), job_id=job_id)


def user_import_cancel(*, job: UserImportJob) -> UserImportJob:
    return import_job_cancel(_kind(), job=job)


def user_import_requeue(*, job: UserImportJob) -> UserImportJob:
    return job_requeue(job=job, task=user_import_task)


def user_import_progress(job: UserImportJob) -> dict:
    return import_job_progress(job)


@task()
def user_import_task(job_id: int) -> None:
    user_import_run(job_id=job_id)
