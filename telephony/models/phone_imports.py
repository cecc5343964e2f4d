"""A confirmed extensions CSV import run in the background (services/phone_import_job.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PhoneImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # The very bytes the admin confirmed and the fingerprint of the plan they saw: the job runs
    # the synchronous confirmation on them. Emptied when the job ends (the file may hold secrets).
    data = models.BinaryField(blank=True)
    fingerprint = models.CharField(max_length=128)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    task_id = models.CharField(max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(default=0)  # rows in the file (the check)
    rows_checked = models.PositiveIntegerField(default=0)
    writes_total = models.PositiveIntegerField(default=0)  # extensions to write
    rows_written = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"extensions import #{self.pk} ({self.status})"
