"""What every background job (django-tasks, run by `manage.py db_worker`) keeps about itself:
its state, who started it, when, and the heartbeat that tells a running job from one whose
worker died. LeadImport and the CSV import jobs of extensions and users share it; the logic
that moves these fields is telephony/services/jobs.py.

The row is the job's state, not the task queue's: a worker restart loses at most the batch in
progress, and the page reads the progress from here.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    CANCEL_REQUESTED = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BackgroundJob(models.Model):
    ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCEL_REQUESTED)
    FINISHED_STATUSES = (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.FAILED)

    status = models.CharField(max_length=12, choices=JobStatus.choices,
                              default=JobStatus.QUEUED)
    # A new token for each run: a run whose worker was taken for dead and that wakes up after
    # the job was queued again finds it changed and stops (each batch's UPDATE checks it).
    run_token = models.CharField(max_length=32, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last sign of life
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    def is_stale(self, *, now: datetime.datetime | None = None) -> bool:
        """Running, but no heartbeat for JOB_STALE_SECONDS: its worker stopped (restarted,
        killed); the job can be queued again or cancelled."""
        if self.status not in (JobStatus.RUNNING, JobStatus.CANCEL_REQUESTED):
            return False
        last = self.heartbeat_at or self.started_at
        limit = datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)
        return last is None or (now or timezone.now()) - last > limit


class CsvImportJob(BackgroundJob):
    """A confirmed CSV import (extensions, users) big enough to outlast a web request: the
    confirmed bytes and fingerprint, then the plan the job checked them into and how many of
    its batches are written (telephony/services/import_job.py)."""

    # Emptied when the job ends, the plan with it (the file and the plan may hold secrets).
    CLEARED_AT_END = {"data": b"", "plan": {}}
    data = models.BinaryField(blank=True)
    fingerprint = models.CharField(max_length=128)
    # {"batches": [[line, ...], ...], "facts": {line: what the row writes}}: set once the
    # check matched the fingerprint; a run queued again goes on from `batches_done`.
    plan = models.JSONField(default=dict, blank=True)
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)  # rows in the file (the check)
    rows_checked = models.PositiveIntegerField(default=0)
    writes_total = models.PositiveIntegerField(default=0)  # rows to write
    rows_written = models.PositiveIntegerField(default=0)  # in committed batches
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta(BackgroundJob.Meta):
        abstract = True
