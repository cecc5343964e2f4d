"""A CSV import of leads, run as a background job (telephony/services/lead_import.py).

The row is the job's state: its progress, counts and errors survive a worker restart, and
`rows_done` is where a resumed run continues (each batch commits its leads, its errors and
`rows_done` together).
"""

from __future__ import annotations

from django.db import models

from telephony.models.jobs import BackgroundJob


class LeadImport(BackgroundJob):
    # The shared statuses (telephony/models/jobs.py, same values) and the wait for a mapping.
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CANCEL_REQUESTED = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    lead_list = models.ForeignKey("telephony.LeadList", on_delete=models.CASCADE,
                                  related_name="imports")
    file = models.FileField(upload_to="lead-imports/", max_length=200)
    original_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20, default="utf-8")
    delimiter = models.CharField(max_length=1, default=",")
    has_header = models.BooleanField(default=True)
    # {"phone": 0, "first_name": 1, ...} column indexes; "extra": [indexes kept in Lead.data]
    mapping = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    lines_done = models.PositiveIntegerField(default=0)
    # Where the next batch starts in the file: a resumed run seeks here instead of re-reading.
    byte_offset = models.PositiveBigIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates_in_file = models.PositiveIntegerField(default=0)
    duplicates_in_campaign = models.PositiveIntegerField(default=0)
    on_dnc = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    zones_guessed = models.PositiveIntegerField(default=0)

    class Meta(BackgroundJob.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.original_name} → {self.lead_list}"


class LeadImportIssue(models.Model):
    """One row the import did not add: rejected (with why) or a duplicate."""

    class Kind(models.TextChoices):
        REJECTED = "rejected", "Rejected"
        DUPLICATE_IN_FILE = "dup_file", "Duplicate in the file"
        DUPLICATE_IN_CAMPAIGN = "dup_campaign", "Already in the campaign"

    lead_import = models.ForeignKey(LeadImport, on_delete=models.CASCADE,
                                    related_name="issues")
    line = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["lead_import", "line", "pk"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
