"""A confirmed extensions CSV import run in the background (telephony/services/phone_import_job.py).
Its fields are the shared ones of every CSV import job (telephony/models/jobs.py)."""

from __future__ import annotations

from telephony.models.jobs import CsvImportJob, JobStatus


class PhoneImportJob(CsvImportJob):
    Status = JobStatus

    class Meta(CsvImportJob.Meta):
        pass

    def __str__(self) -> str:
        return f"extensions import #{self.pk} ({self.status})"
