"""Log entries for writes that send no model signals (bulk_create, bulk_update, bulk deletes).

django-auditlog hooks save() and delete(); the bulk paths skip them for speed, so they record
their changes here, in the same transaction, with the same diff, masks and request context.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditlog.context import auditlog_value
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

_BATCH = 1000


def _context() -> dict:
    try:
        values = auditlog_value.get()
    except LookupError:
        return {}
    actor = values.get("actor")
    return {"actor": actor, "actor_email": getattr(actor, "email", None) if actor else None,
            "remote_addr": values.get("remote_addr")}


def audit_bulk_record(*, changes: Iterable[tuple[models.Model | None, models.Model | None]],
                      action: int, note: str = "", fields: Iterable[str] | None = None) -> int:
    """One LogEntry per (before, after) pair: (None, obj) created, (old, new) updated,
    (obj, None) deleted. Pairs without a difference are skipped. Returns how many were written.
    `fields`: the only fields an update changed (auditlog's `update_fields`), so the diff
    compares those, not every column: a third of the time of a 15,000-phone bulk update."""
    context = _context()
    entries = []
    for before, after in changes:
        instance = after if after is not None else before
        diff = model_instance_diff(before, after, fields_to_check=fields)
        if not diff and action == LogEntry.Action.UPDATE:
            continue
        entries.append(LogEntry(
            content_type=ContentType.objects.get_for_model(instance),
            object_pk=str(instance.pk), object_id=instance.pk if isinstance(instance.pk, int)
            else None, object_repr=str(instance), action=action, changes=diff or None,
            additional_data={"bulk": note} if note else None, **context))
    LogEntry.objects.bulk_create(entries, batch_size=_BATCH)
    return len(entries)
