"""DNC lists: the global list and each campaign's, add, remove, import, export (admins and
supervisors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from telephony.forms.leads import DncAddForm, DncImportForm
from telephony.models import Campaign, DncEntry
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.dnc import dnc_add, dnc_export, dnc_import, dnc_remove
from users.roles import ADMIN, SUPERVISOR, role_required

MAX_REJECTED_SHOWN = 200


def _campaign(pk: int | None) -> Campaign | None:
    return get_object_or_404(Campaign, pk=pk) if pk else None


def _back(campaign: Campaign | None):
    return (redirect("telephony:dnc_campaign", pk=campaign.pk) if campaign
            else redirect("telephony:dnc_global"))


@role_required(ADMIN, SUPERVISOR)
def dnc_list(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = _campaign(pk)
    entries = DncEntry.objects.filter(campaign=campaign).select_related("added_by")
    query = request.GET.get("q", "").strip()[:40]
    if query:
        entries = entries.filter(number__contains="".join(c for c in query if c.isdigit()))
    return render(request, "telephony/dnc/list.html", {
        "campaign": campaign, "page": Paginator(entries, 50).get_page(request.GET.get("page")),
        "add_form": DncAddForm(), "import_form": DncImportForm(), "q": query})


@role_required(ADMIN, SUPERVISOR)
@require_POST
def dnc_add_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = _campaign(pk)
    form = DncAddForm(request.POST)
    if form.is_valid():
        try:
            entry, created = dnc_add(campaign=campaign, user=request.user, **form.cleaned_data)
            messages.success(request, f"{entry.number} added." if created
                             else f"{entry.number} was already on the list.")
        except CampaignServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter a number.")
    return _back(campaign)


@role_required(ADMIN, SUPERVISOR)
@require_POST
def dnc_import_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = _campaign(pk)
    form = DncImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file.")
        return _back(campaign)
    try:
        result = dnc_import(upload=form.cleaned_data["file"], campaign=campaign,
                            reason=form.cleaned_data["reason"], user=request.user)
    except CampaignServiceError as exc:
        messages.error(request, exc.message)
        return _back(campaign)
    messages.success(request, f"{result.added} added, {result.already_listed} already listed, "
                              f"{len(result.rejected)} rejected.")
    for line, value, reason in result.rejected[:MAX_REJECTED_SHOWN]:
        messages.warning(request, f"Line {line} ({value!r}): {reason}")
    return _back(campaign)


@role_required(ADMIN, SUPERVISOR)
@require_POST
def dnc_remove_view(request: HttpRequest, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(DncEntry.objects.select_related("campaign"), pk=entry_pk)
    campaign = entry.campaign
    dnc_remove(entry=entry)
    messages.success(request, f"{entry.number} removed.")
    return _back(campaign)


@role_required(ADMIN, SUPERVISOR)
def dnc_export_view(request: HttpRequest, pk: int | None = None) -> StreamingHttpResponse:
    campaign = _campaign(pk)
    response = StreamingHttpResponse(dnc_export(campaign=campaign),
                                     content_type="text/csv; charset=utf-8")
    name = f"dnc-{campaign.pk}" if campaign else "dnc-global"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


urlpatterns = [
    path("dnc/", dnc_list, name="dnc_global"),
    path("dnc/add/", dnc_add_view, name="dnc_global_add"),
    path("dnc/import/", dnc_import_view, name="dnc_global_import"),
    path("dnc/export.csv", dnc_export_view, name="dnc_global_export"),
    path("dnc/<int:entry_pk>/remove/", dnc_remove_view, name="dnc_remove"),
    path("campaigns/<int:pk>/dnc/", dnc_list, name="dnc_campaign"),
    path("campaigns/<int:pk>/dnc/add/", dnc_add_view, name="dnc_campaign_add"),
    path("campaigns/<int:pk>/dnc/import/", dnc_import_view, name="dnc_campaign_import"),
    path("campaigns/<int:pk>/dnc/export.csv", dnc_export_view, name="dnc_campaign_export"),
]
