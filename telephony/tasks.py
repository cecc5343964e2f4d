"""Background jobs, run by `manage.py db_worker` (django-tasks' database backend)."""

from __future__ import annotations

from django_tasks import task


@task()
def lead_import_task(import_id: int) -> None:
    from telephony.services.lead_import import lead_import_run

    lead_import_run(import_id=import_id)
