"""The shared pieces of every page: pagination, sortable column headers, and (docs/ui.md) the
one date-time format, the one duration format and the one colour per status."""

from __future__ import annotations

from django import template
from django.http import QueryDict

register = template.Library()


def _query(request, **changes) -> str:
    """The current query string with `changes` applied (None removes a key)."""
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


@register.inclusion_tag("_pagination.html", takes_context=True)
def pagination(context, page, sizes=None):
    """Numbered pages (first, last and a window around the current one, elided between) and,
    when `sizes` is given, a page-size choice: 15,000 rows are never 300 "Next" clicks."""
    request = context["request"]
    paginator = page.paginator
    links = []
    for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1):
        if number == paginator.ELLIPSIS:
            links.append({"ellipsis": True})
        else:
            links.append({"number": number, "current": number == page.number,
                          "query": _query(request, page=str(number))})
    return {
        "page": page, "links": links, "sizes": sizes or (),
        "per_page": paginator.per_page,
        "previous_query": _query(request, page=str(page.number - 1)) if page.has_previous()
        else None,
        "next_query": _query(request, page=str(page.number + 1)) if page.has_next() else None,
        # The page-size form keeps the other filters and starts again at page 1.
        "hidden": [(key, value) for key, values in request.GET.lists() if key not in
                   ("page", "per_page") for value in values],
    }


@register.simple_tag(takes_context=True)
def sort_query(context, key: str, current: str) -> str:
    """The query string that sorts by `key`: ascending first, descending when already
    ascending; back to page 1."""
    value = f"-{key}" if current == key else key
    return _query(context["request"], sort=value, page=None)


# --- one date-time format, one duration format, one colour per status (docs/ui.md) ----------

DATETIME_FORMAT = "Y-m-d H:i:s"


@register.filter
def when(value) -> str:
    """Every date-time a page shows: local time, `2026-12-01 14:05:09`; empty for None."""
    if not value:
        return ""
    from django.utils import dateformat, timezone

    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, DATETIME_FORMAT)


def duration_text(seconds) -> str:
    """m:ss (h:mm:ss past an hour), the same format the agent panel's timer shows."""
    if seconds is None or seconds == "":
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def duration(seconds) -> str:
    return duration_text(seconds)


# Status -> Bootstrap badge colour. The same word is the same colour on every page. Keys are
# the words people read (a model's display value) or its stored value: "no_answer" and
# "No answer" are one key, as status_colour turns "_" into a space.
STATUS_COLOURS = {
    # good / live
    "registered": "success", "active": "success", "ok": "success", "connected": "success",
    "running": "success", "answered": "success", "completed": "success", "done": "success",
    "on call": "success", "on a call": "success", "new": "success",  # new: an import's rows
    # ready for work, waiting for a call
    "available": "primary", "ready": "primary",
    # needs a look, or in progress
    "paused": "warning", "ringing": "warning", "queued": "warning", "dialing": "warning",
    "dialling": "warning", "reserved": "warning", "wrap-up": "warning", "wrap up": "warning",
    "cannot be reached": "warning", "unreachable": "warning", "phone unreachable": "warning",
    "not checked": "warning", "skip": "warning", "updated": "warning",
    "cancelling": "warning", "stalled": "warning",  # a background job
    # broken / refused
    "error": "danger", "failed": "danger", "fail": "danger", "locked": "danger",
    "busy": "danger", "no answer": "danger", "rejected": "danger",
    # off / nothing yet
    "inactive": "secondary", "deactivated": "secondary", "not registered": "secondary",
    "untested": "secondary", "not tested": "secondary", "never": "secondary",
    "finished": "secondary", "cancelled": "secondary", "draft": "secondary",
    "offline": "secondary", "phone offline": "secondary", "no phone": "secondary",
    "logged out": "secondary", "unchanged": "secondary",
}


@register.filter
def status_colour(status) -> str:
    return STATUS_COLOURS.get(str(status).strip().lower().replace("_", " "), "secondary")
