"""The pages of a background CSV import job (extensions, users): the progress page, what it
polls, cancel and queue again. Each import's own views check the role and find the job; these
draw the same page for every kind (templates/import_job.html, docs/ui.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render

from telephony.models.jobs import CsvImportJob, JobStatus
from telephony.services.import_job import import_job_progress
from telephony.services.jobs import JobError


@dataclass(frozen=True)
class JobPages:
    """What one kind of import's job pages say and link to."""

    title: str  # "Extensions import"
    noun: str  # "extensions"
    crumbs: list[tuple[str, str]]  # [(label, url)] before the job
    back: tuple[str, str]  # (label, url)
    again_url: str  # the import's upload page
    page_url: Callable[[int], str]
    status_url: Callable[[int], str]
    cancel_url: Callable[[int], str]
    requeue_url: Callable[[int], str]
    batch_size: int


def job_page(request, job: CsvImportJob, pages: JobPages, *, extra: dict | None = None
             ) -> HttpResponse:
    return render(request, "import_job.html", {
        "job": job, "progress": import_job_progress(job), "pages": pages,
        "status_url": pages.status_url(job.pk), "cancel_url": pages.cancel_url(job.pk),
        "requeue_url": pages.requeue_url(job.pk), **(extra or {})})


def job_status(job: CsvImportJob) -> JsonResponse:
    return JsonResponse(import_job_progress(job))


def job_cancel_page(request, job: CsvImportJob, pages: JobPages,
                    cancel: Callable[[CsvImportJob], CsvImportJob]) -> HttpResponse:
    """POST only. Without confirm=1 the confirmation page (cancelling throws away the work not
    done yet); with it, the cancel."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    page = pages.page_url(job.pk)
    if request.POST.get("confirm") != "1":
        running = job.status != JobStatus.QUEUED
        lead = (f"The import stops before its next batch of {pages.batch_size:,} {pages.noun}. "
                "Each batch is written whole, in its own transaction: the batches already "
                f"written stay written ({job.rows_written:,} {pages.noun} so far), the rest is "
                "not written. Upload the file again later to write the rest: what is written "
                "then counts as unchanged." if running else
                "The import has not begun: nothing is written.")
        return render(request, "confirm.html", {
            "title": f"Cancel {pages.title.lower()} #{job.pk}?", "lead": lead,
            "crumbs": [*pages.crumbs, (f"Import #{job.pk}", page)],
            "action_url": pages.cancel_url(job.pk),
            "confirm_label": f"Cancel import #{job.pk}", "danger": True,
            "cancel_url": page})
    try:
        cancel(job)
    except JobError as exc:
        messages.error(request, exc.message)
    # No message on success: the job's page shows the new state itself (docs/ui.md).
    return redirect(page)


def job_requeue_page(request, job: CsvImportJob, pages: JobPages,
                     requeue: Callable[[CsvImportJob], CsvImportJob]) -> HttpResponse:
    """POST only: queue again a job whose worker stopped (nothing is lost, so no question)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        requeue(job)
    except JobError as exc:
        messages.error(request, exc.message)
    return redirect(pages.page_url(job.pk))
