"""The audit log: admins read, filter and export who changed what, when and from where."""

from __future__ import annotations

import io
from datetime import datetime, time

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date

from audit.auth_events import EVENT_LABELS
from audit.tracked import KIND_LABELS, tracked_models
from telephony import csvcells
from users.roles import admin_required

PAGE_SIZE = 50
ACTIONS = {"create": "Created", "update": "Updated", "delete": "Deleted", **EVENT_LABELS}
_ACTION_CODES = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE,
                 "delete": LogEntry.Action.DELETE}
EXPORT_MAX = 100_000


def _kinds() -> dict[str, ContentType]:
    """The object kinds the filter offers, keyed by model name ('phone', 'user' ...)."""
    types = ContentType.objects.get_for_models(*tracked_models())
    return {model._meta.model_name: types[model] for model in tracked_models()}


def kind_label(content_type: ContentType) -> str:
    return KIND_LABELS.get(content_type.model, content_type.model)


def action_label(entry: LogEntry) -> str:
    event = (entry.additional_data or {}).get("event") if isinstance(
        entry.additional_data, dict) else None
    if event in EVENT_LABELS:
        return EVENT_LABELS[event]
    return {LogEntry.Action.CREATE: "Created", LogEntry.Action.UPDATE: "Updated",
            LogEntry.Action.DELETE: "Deleted"}.get(entry.action, "Accessed")


def change_lines(entry: LogEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) per changed field, m2m changes as '+ Agent' / '- Agent'."""
    lines = []
    for name, change in (entry.changes_dict or {}).items():
        if isinstance(change, dict) and change.get("type") == "m2m":
            sign = "+" if change.get("operation") == "add" else "−"
            lines.append((name, "", " ".join(f"{sign} {obj}" for obj in change["objects"])))
        elif isinstance(change, list | tuple) and len(change) == 2:
            before, after = ("" if value in (None, "None") else str(value) for value in change)
            lines.append((name, before, after))
    return lines


def _filtered(request) -> tuple:
    entries = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp",
                                                                                  "-pk")
    filters = {key: request.GET.get(key, "").strip() for key in ("actor", "kind", "action",
                                                                  "q", "since", "until")}
    kinds = _kinds()
    if filters["actor"]:
        entries = entries.filter(actor__username__iexact=filters["actor"])
    if filters["kind"] in kinds:
        entries = entries.filter(content_type=kinds[filters["kind"]])
    action = filters["action"]
    if action in _ACTION_CODES:
        entries = entries.filter(action=_ACTION_CODES[action])
    elif action in EVENT_LABELS:
        entries = entries.filter(action=LogEntry.Action.ACCESS,
                                 additional_data__event=action)
    if filters["q"]:
        entries = entries.filter(object_repr__icontains=filters["q"])
    tz = timezone.get_current_timezone()
    if since := parse_date(filters["since"] or "x"):
        entries = entries.filter(timestamp__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until := parse_date(filters["until"] or "x"):
        entries = entries.filter(timestamp__lte=datetime.combine(until, time.max, tzinfo=tz))
    return entries, filters, kinds


def _rows(entries):
    for entry in entries:
        yield {"entry": entry, "action": action_label(entry),
               "kind": kind_label(entry.content_type), "changes": change_lines(entry)}


@admin_required
def audit_log(request):
    entries, filters, kinds = _filtered(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/log_list.html", {
        "page": page, "rows": list(_rows(page)), "filters": filters,
        "kinds": sorted(((name, kind_label(ct)) for name, ct in kinds.items()),
                        key=lambda item: item[1]),
        "actions": ACTIONS.items(), "query_string": request.GET.urlencode(),
    })


@admin_required
def audit_export(request):
    entries, _filters, _kinds = _filtered(request)
    out = io.StringIO()
    writer = csvcells.writer(out)  # every cell defused
    writer.writerow(["time", "user", "address", "action", "kind", "object", "field", "before",
                     "after"])
    for row in _rows(entries[:EXPORT_MAX].iterator(chunk_size=2000)):
        entry = row["entry"]
        base = [timezone.localtime(entry.timestamp).isoformat(timespec="seconds"),
                entry.actor.username if entry.actor else "", entry.remote_addr or "",
                row["action"], row["kind"], entry.object_repr]
        for field, before, after in row["changes"] or [("", "", "")]:
            writer.writerow(base + [field, before, after])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response["Cache-Control"] = "no-store"
    return response


app_name = "audit"
urlpatterns = [
    path("", audit_log, name="log"),
    path("export/", audit_export, name="export"),
]
