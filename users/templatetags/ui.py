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
