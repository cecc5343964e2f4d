"""A confirmed CSV import (extensions, users) run as a background job, in batches.

The synchronous confirmation writes the whole file in one transaction. A job instead:

1. checks the confirmed bytes again (unlocked, reporting its progress) and refuses, writing
   nothing, when the plan is not the one the admin confirmed (its fingerprint differs);
2. stores that plan (each written row's facts) and cuts it into batches, rows tied together
   (an agent moving between extensions) kept in one batch;
3. writes batch after batch, each in its own transaction that also advances `batches_done`:
   the batch's rows are checked again with their rows locked against the stored facts, so a
   change made meanwhile stops the job before that batch, never halfway through one.

Between batches it looks for a cancel request. So whatever ends a job (done, cancelled, an
error, a change since the dry run, its worker killed) leaves the rows of whole batches
written and nothing of the others, and a job queued again after its worker died goes on with
the first batch not committed. Each kind of import gives the four steps it needs
(`ImportJobKind`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from telephony.models.jobs import CsvImportJob, JobStatus
from telephony.services.csv_table import CsvRefused, ImportPlan, PlanChanged
from telephony.services.errors import ServiceError
from telephony.services.jobs import (
    job_beat,
    job_cancel,
    job_cancel_requested,
    job_claim,
    job_enqueue,
    job_finish,
    job_state,
)


@dataclass(frozen=True)
class ImportJobKind:
    model: type[CsvImportJob]
    noun: str  # "extensions", "users"
    batch_size: int
    task: Any  # the django-tasks task that runs `import_job_run` for this kind
    # job -> what the steps share (the parsed file, the admin who confirmed it)
    prepare: Callable[[CsvImportJob], Any]
    # (prepared, progress) -> the plan of the whole file, unlocked
    check: Callable[[Any, Callable[..., None]], ImportPlan]
    # (prepared, lines, expected facts) -> the batch's plan, written; raises BatchChanged.
    # Called inside the batch's transaction.
    write: Callable[[Any, list[int], dict[str, Any]], ImportPlan]


class BatchChanged(ServiceError):
    """A row of the batch no longer writes what the admin confirmed."""

    code = "import_changed"

    def __init__(self, line: int | None) -> None:
        self.line = line
        super().__init__("Something changed since the dry run"
                         + (f" (line {line})" if line else ""))


def normal(facts: Any) -> Any:
    """Facts as they come back from the job's JSON column (tuples become lists)."""
    return json.loads(json.dumps(facts, default=str))


def batch_check(plan: ImportPlan, lines: list[int], expected: dict[str, Any]) -> None:
    """Raise BatchChanged unless the batch's fresh plan writes exactly the stored facts."""
    if plan.problems:
        raise BatchChanged(plan.problems[0].line)
    for line in lines:
        if normal(plan.line_facts.get(line)) != expected.get(str(line)):
            raise BatchChanged(line)
    if len(plan.line_facts) != len(lines):
        raise BatchChanged(None)


def import_batches(plan: ImportPlan, size: int) -> list[list[int]]:
    """The written lines in batches of about `size` in file order, tied rows together."""
    lines = sorted(plan.line_facts)
    parent = {line: line for line in lines}

    def root(line: int) -> int:
        while parent[line] != line:
            parent[line] = parent[parent[line]]
            line = parent[line]
        return line

    first_with: dict[Any, int] = {}
    for line in lines:
        for key in plan.ties.get(line, ()):
            if key in first_with:
                parent[root(line)] = root(first_with[key])
            else:
                first_with[key] = line
    groups: dict[int, list[int]] = {}
    for line in lines:
        groups.setdefault(root(line), []).append(line)
    batches: list[list[int]] = []
    for group in sorted(groups.values()):
        if batches and len(batches[-1]) + len(group) <= size:
            batches[-1].extend(group)
        else:
            batches.append(list(group))
    return [sorted(batch) for batch in batches]


def import_job_enqueue(kind: ImportJobKind, *, data: bytes, fingerprint: str, user=None,
                       writes: int = 0) -> CsvImportJob:
    """Store the confirmed file and queue the job (sent once this transaction commits)."""
    job = kind.model.objects.create(data=data, fingerprint=fingerprint, created_by=user,
                                    writes_total=writes)
    job_enqueue(job, kind.task, job.pk)
    return job


class _Superseded(Exception):
    """Another run owns the job now, or it was cancelled while taken for dead."""


def _written(kind: ImportJobKind, job: CsvImportJob) -> str:
    if not job.rows_written:
        return "Nothing was written."
    return (f"The {job.rows_written:,} {kind.noun} of the first {job.batches_done:,} of "
            f"{job.batches_total:,} batches stay written; nothing of the rest was.")


def import_job_run(kind: ImportJobKind, *, job_id: int) -> CsvImportJob | None:
    """The job: claim a queued import, check it (first run) and write its batches."""
    model = kind.model
    token = job_claim(model, job_id)
    if token is None:
        return None
    job = model.objects.get(pk=job_id)
    try:
        _run(kind, job, token)
    except _Superseded:
        pass
    except (PlanChanged, BatchChanged) as exc:
        job.refresh_from_db()
        where = f" (line {exc.line})" if getattr(exc, "line", None) else ""
        job_finish(model, job_id, token, JobStatus.FAILED,
                   f"Something changed since the dry run{where} (another admin, or the file). "
                   f"{_written(kind, job)} Upload the file again to see the new dry run"
                   + (" (what was written counts as unchanged)." if job.rows_written else "."))
    except CsvRefused as exc:
        job.refresh_from_db()
        job_finish(model, job_id, token, JobStatus.FAILED,
                   f"The file was refused: {exc.message.rstrip('.')}. {_written(kind, job)}")
    except ServiceError as exc:
        job.refresh_from_db()
        job_finish(model, job_id, token, JobStatus.FAILED, f"{exc.message} {_written(kind, job)}")
    except Exception as exc:
        job.refresh_from_db()
        job_finish(model, job_id, token, JobStatus.FAILED,
                   f"Stopped by an error: {type(exc).__name__}: {exc}. {_written(kind, job)}")
        raise  # the worker logs the traceback
    return model.objects.get(pk=job_id)


def _run(kind: ImportJobKind, job: CsvImportJob, token: str) -> None:
    model = kind.model
    prepared = kind.prepare(job)
    if not job.plan:  # the first run; a run queued again goes on with the stored plan

        def progress(**counts: int) -> None:
            if not job_beat(model, job.pk, token, **counts):
                raise _Superseded

        plan = kind.check(prepared, progress)
        if plan.fingerprint != job.fingerprint:
            raise PlanChanged(plan)
        batches = import_batches(plan, kind.batch_size)
        stored = {"batches": batches, "facts": {str(line): normal(facts) for line, facts
                                                in plan.line_facts.items()}}
        if not job_beat(model, job.pk, token, plan=stored, batches_total=len(batches),
                        writes_total=len(plan.line_facts), rejected=plan.rejected):
            raise _Superseded
        job.refresh_from_db()
    batches, facts = job.plan["batches"], job.plan["facts"]
    for index in range(job.batches_done, len(batches)):
        if job_cancel_requested(model, job.pk, token):
            job.refresh_from_db()
            job_finish(model, job.pk, token, JobStatus.CANCELLED,
                       f"Cancelled. {_written(kind, job)}")
            return
        lines = batches[index]
        with transaction.atomic():
            # The ownership check first: it also locks the job row, so two runs never write
            # the same batch.
            if not model.objects.filter(
                    pk=job.pk, run_token=token, batches_done=index,
                    status__in=[JobStatus.RUNNING, JobStatus.CANCEL_REQUESTED]).update(
                    batches_done=index + 1, rows_written=F("rows_written") + len(lines)):
                raise _Superseded
            plan = kind.write(prepared, lines, {str(line): facts[str(line)] for line in lines})
            job_beat(model, job.pk, token, created=F("created") + len(plan.created),
                     updated=F("updated") + len(plan.updated))
    job.refresh_from_db()
    job_finish(model, job.pk, token, JobStatus.DONE,
               f"{job.created:,} new, {job.updated:,} updated, {job.rejected:,} rejected.")


def import_job_cancel(kind: ImportJobKind, *, job: CsvImportJob) -> CsvImportJob:
    return job_cancel(job=job, message_queued="Cancelled before it began. Nothing was written.",
                      message_stalled=f"Cancelled after its worker stopped. {_written(kind, job)}")


def import_job_progress(job: CsvImportJob) -> dict:
    """What the job page polls (static/js/lead-import.js fills the data-field elements)."""
    # The check is the first fifth of the work, the batches the rest.
    done = 0.2 * (job.rows_checked / job.rows_total if job.rows_total else 0) + \
        0.8 * (job.rows_written / job.writes_total if job.writes_total else 0)
    percent = 100 if job.status == JobStatus.DONE else min(99, round(100 * done))
    return {
        **job_state(job), "rows_total": job.rows_total, "rows_checked": job.rows_checked,
        "writes_total": job.writes_total, "rows_written": job.rows_written,
        "batches_total": job.batches_total, "batches_done": job.batches_done,
        "percent": percent, "eta_seconds": None,
        "created": job.created, "updated": job.updated, "rejected": job.rejected,
    }
