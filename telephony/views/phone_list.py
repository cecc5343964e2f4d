"""Extensions (phones): the admin-only list (search, filters, sorting, numbered pages, the
registration column) and its CSV export; the bulk actions on it are views/phone_selection.py."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse

from autodialer.input import query_int
from telephony.forms.phone_selection import ACTIONS
from telephony.models import AsteriskServer
from telephony.services.phone_csv import phone_csv_export
from telephony.services.phone_selection import YES_NO, PhoneFilter
from telephony.services.registration import registrations_by_server
from telephony.templatetags.registration import registration_cell
from users.roles import admin_required

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 250, 500)
# ?sort= key -> the columns it orders by (allowlisted: a query string never names a column).
# The extension ends every ordering, so a page boundary is stable when the key ties.
SORTS = {
    "extension": ("extension",),
    "name": ("name", "extension"),
    "agent": ("user__username", "extension"),
    "server": ("server__name", "extension"),
    "context": ("context", "extension"),
    "active": ("is_active", "extension"),
}


def _sorting(request) -> tuple[str, list[str]]:
    """The ?sort= value as understood (unknown keys fall back to the extension) and the
    ORDER BY it means; a leading '-' reverses the first column."""
    raw = request.GET.get("sort", "")
    key = raw.removeprefix("-")
    if key not in SORTS:
        return "extension", ["extension"]
    columns = list(SORTS[key])
    if raw.startswith("-"):
        columns[0] = "-" + columns[0]
    return raw, columns


def _page_size(request) -> int:
    size = request.GET.get("per_page", "")
    return int(size) if size in {str(choice) for choice in PAGE_SIZES} else PAGE_SIZE


def _list_filter(request) -> PhoneFilter:
    """The list's search and filters from the query string (unknown choices are "either")."""
    values = {key: request.GET.get(key, "").strip() for key in ("q", "assigned", "active")}
    # str.isdigit() takes '²', which int() refuses: read it strictly (a 400 if malformed).
    return PhoneFilter(
        q=values["q"], server_id=query_int(request, "server", minimum=1),
        assigned=values["assigned"] if values["assigned"] in YES_NO else "",
        active=values["active"] if values["active"] in YES_NO else "")


def _filtered_phones(request):
    """The list's search, filters and order, shared by the page and its CSV export."""
    sort, ordering = _sorting(request)
    phone_filter = _list_filter(request)
    phones = phone_filter.queryset().select_related("server", "user").order_by(*ordering)
    filters = {"q": phone_filter.q, "assigned": phone_filter.assigned,
               "active": phone_filter.active, "sort": sort,
               "server": request.GET.get("server", "").strip(), "filter": phone_filter}
    return phones, filters


def _url_format(name: str) -> str:
    """`name`'s URL with "{pk}" for the id: one reverse() for the page, not one per row."""
    sentinel = 987_654_321_012
    return reverse(name, args=[sentinel]).replace(str(sentinel), "{pk}")


# What a row shows, read as plain values: building 1,500 model instances (phone, server, user)
# for a 500-row page cost more than the query.
ROW_VALUES = ("pk", "extension", "name", "user__username", "server_id", "context",
              "is_active")


def _list_rows(page, registrations, server_names: dict[int, str]) -> list[dict]:
    """What each row of the list shows, as plain values. A 500-row page spent most of its time
    in the template resolving `phone.user.username`-style lookups, three {% url %} tags and an
    {% include %} of the registration cell per row; here the URLs are formatted from one
    reverse each and the cell comes from the tag's Python function."""
    detail, edit, delete = (_url_format(f"telephony:phone_{name}")
                            for name in ("detail", "edit", "delete"))
    rows = []
    for phone in page:
        pk = phone["pk"]
        rows.append({
            "pk": pk, "extension": phone["extension"], "name": phone["name"],
            "agent": phone["user__username"] or "",
            "server": server_names.get(phone["server_id"], ""), "context": phone["context"],
            "is_active": phone["is_active"],
            "registration": registration_cell(registrations[phone["extension"]]),
            "detail_url": detail.format(pk=pk), "edit_url": edit.format(pk=pk),
            "delete_url": delete.format(pk=pk),
        })
    return rows


@admin_required
def phone_list(request):
    phones, filters = _filtered_phones(request)
    page = Paginator(phones.values(*ROW_VALUES), _page_size(request)).get_page(
        request.GET.get("page"))
    # Every server in one query: the filter's choices, the rows' server names and the AMI
    # settings to ask each one (one PJSIPShowContacts per server for the whole page).
    servers = {server.pk: server for server in AsteriskServer.objects.order_by("name")}
    groups: dict[int, list[str]] = {}
    for phone in page:
        groups.setdefault(phone["server_id"], []).append(phone["extension"])
    registrations = registrations_by_server(
        ((servers.get(pk), extensions) for pk, extensions in groups.items()),
        max_age=settings.REGISTRATION_CACHE_SECONDS)
    server_names = {pk: server.name for pk, server in servers.items()}
    return render(request, "telephony/phones/phone_list.html", {
        "page": page,
        "rows": _list_rows(page, registrations, server_names),
        # "Select all N matching": the filter travels with the bulk form, in words on the page.
        "matching": {"count": f"{page.paginator.count:,}",
                     "more_than_page": page.paginator.count > len(page.object_list),
                     "fields": filters["filter"].as_fields(),
                     "description": filters["filter"].describe(server_names)},
        "registration_problem": registrations.problem,
        "registration_age": registrations.age,
        "registration_cache_seconds": settings.REGISTRATION_CACHE_SECONDS,
        "filters": filters,
        "servers": servers.values(),
        "query_string": request.GET.urlencode(),
        "page_sizes": PAGE_SIZES,
        "columns": [("extension", "Extension"), ("name", "Name"), ("agent", "Agent"),
                    ("server", "Server"), ("context", "Context")],
        "actions": ACTIONS,
    })


@admin_required
def phone_export(request):
    phones, _filters = _filtered_phones(request)
    include_secrets = request.GET.get("secrets") == "1"
    response = HttpResponse(phone_csv_export(phones=phones, include_secrets=include_secrets),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="extensions.csv"'
    # The secrets variant must not linger in a shared cache or the browser's.
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("extensions/", phone_list, name="phone_list"),
    path("extensions/export/", phone_export, name="phone_export"),
]
