"""The life of a background job row (telephony/models/jobs.py), whatever it does: queue it,
claim it for one run, beat while it works, cancel it, queue again one whose worker died, end it.

A run owns the job through its `run_token`: every write a run makes checks the token, so a run
taken for dead that wakes up after the job was queued again (or cancelled) changes nothing.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from telephony.models.jobs import BackgroundJob, JobStatus
from telephony.services.errors import ServiceError


class JobError(ServiceError):
    code = "job_refused"


def job_enqueue(job: BackgroundJob, task, *args) -> None:
    """Send the task once the caller's transaction commits (the worker must find the row)."""
    model = type(job)

    def send() -> None:
        result = task.enqueue(*args)
        model.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(send)


def job_claim(model: type[BackgroundJob], pk: int) -> str | None:
    """Take a queued job for this run: its token, or None when it is not queued (a duplicate
    delivery, or cancelled before it began)."""
    token = secrets.token_hex(16)
    now = timezone.now()
    if not model.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, run_token=token, heartbeat_at=now):
        return None
    model.objects.filter(pk=pk, started_at__isnull=True).update(started_at=now)
    return token


def job_beat(model: type[BackgroundJob], pk: int, token: str, **fields) -> bool:
    """A sign of life (with the progress in `fields`) while this run owns the job; False when
    it no longer does (queued again, cancelled while stalled)."""
    return bool(model.objects.filter(
        pk=pk, run_token=token, status__in=[JobStatus.RUNNING, JobStatus.CANCEL_REQUESTED],
    ).update(heartbeat_at=timezone.now(), **fields))


def job_cancel_requested(model: type[BackgroundJob], pk: int, token: str) -> bool:
    return model.objects.filter(pk=pk, run_token=token,
                                status=JobStatus.CANCEL_REQUESTED).exists()


def job_finish(model: type[BackgroundJob], pk: int, token: str | None, status: str,
               message: str, **fields) -> bool:
    """End the job (done, cancelled, failed) if this run still owns it (token None: whoever
    does); the fields of `model.CLEARED_AT_END` are emptied."""
    jobs = model.objects.filter(pk=pk)
    if token is not None:
        jobs = jobs.filter(run_token=token)
    return bool(jobs.update(status=status, message=message[:500], finished_at=timezone.now(),
                            **getattr(model, "CLEARED_AT_END", {}), **fields))


def job_cancel(*, job: BackgroundJob, message_queued: str, message_stalled: str) -> BackgroundJob:
    """Cancel: a queued job ends at once, a running one at the end of its current batch (its
    worker sees the request), a stalled one (its worker died) at once."""
    model = type(job)
    if job.status == JobStatus.QUEUED:
        model.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), message=message_queued,
            **getattr(model, "CLEARED_AT_END", {}))
    elif job.is_stale():
        # A new token: should the worker wake up after all, its next write finds it changed.
        model.objects.filter(pk=job.pk, status__in=job.ACTIVE_STATUSES[1:]).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), message=message_stalled,
            run_token=secrets.token_hex(16), **getattr(model, "CLEARED_AT_END", {}))
    elif job.status == JobStatus.RUNNING:
        model.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.CANCEL_REQUESTED)
    elif job.status != JobStatus.CANCEL_REQUESTED:
        raise JobError("This job has already ended.")
    job.refresh_from_db()
    return job


def job_requeue(*, job: BackgroundJob, task) -> BackgroundJob:
    """Queue again a job whose worker stopped; it goes on from where it was (each job says how)."""
    if not job.is_stale():
        raise JobError("Only a stalled job (its worker stopped) can be queued again.")
    model = type(job)
    with transaction.atomic():
        requeued = model.objects.filter(
            pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update(
            status=JobStatus.QUEUED, run_token=secrets.token_hex(16), message="")
        if not requeued:
            raise JobError("The job changed meanwhile; reload the page.")
        job_enqueue(job, task, job.pk)
    job.refresh_from_db()
    return job


def job_state(job: BackgroundJob) -> dict:
    """The part of a progress answer every job page reads."""
    stale = job.is_stale()
    return {
        "status": job.status, "status_label": "Stalled: the worker stopped" if stale
        else job.get_status_display(), "message": job.message, "stale": stale,
        "finished": job.finished,
        "cancellable": job.status in (JobStatus.QUEUED, JobStatus.RUNNING) or stale,
        "requeueable": stale,
    }
