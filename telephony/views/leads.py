"""Lead lists and their CSV imports (admins and supervisors): new list, upload, mapping and
dry run, the polled progress, cancel/resume, the rejected rows, the template, the export."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from telephony.csvcells import defuse
from telephony.forms.leads import LeadListForm, MappingForm, UploadForm
from telephony.models import Campaign, LeadImport, LeadList
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.lead_csv import TEMPLATE
from telephony.services.lead_import import (
    lead_import_cancel,
    lead_import_configure,
    lead_import_preview,
    lead_import_progress,
    lead_import_resume,
    lead_import_start,
    lead_import_upload,
)
from telephony.services.leads import lead_list_create, leads_export
from users.roles import ADMIN, SUPERVISOR, role_required

MANAGE = (ADMIN, SUPERVISOR)


@role_required(*MANAGE)
def lead_list_new(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = LeadListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lead_list = lead_list_create(campaign=campaign, user=request.user, **form.cleaned_data)
            return redirect("telephony:lead_import_new", pk=lead_list.pk)
        except CampaignServiceError as exc:
            form.add_error(exc.field, exc.message)
    return render(request, "telephony/leads/form.html",
                  {"form": form, "title": f"New lead list for {campaign.name}",
                   "campaign": campaign})


@role_required(*MANAGE)
def lead_import_new(request: HttpRequest, pk: int) -> HttpResponse:
    lead_list = get_object_or_404(LeadList.objects.select_related("campaign"), pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            lead_import = lead_import_upload(lead_list=lead_list, upload=form.cleaned_data["file"],
                                             user=request.user)
            return redirect("telephony:lead_import_mapping", pk=lead_import.pk)
        except CampaignServiceError as exc:
            form.add_error("file", exc.message)
    return render(request, "telephony/leads/form.html", {
        "form": form, "title": f"Import leads into {lead_list.name}", "multipart": True,
        "campaign": lead_list.campaign, "template_url": reverse("telephony:lead_template")})


@role_required(*MANAGE)
def lead_import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport.objects.select_related("lead_list__campaign"),
                                    pk=pk)
    if lead_import.status != LeadImport.Status.UPLOADED:
        return redirect("telephony:lead_import_detail", pk=lead_import.pk)
    preview = lead_import_preview(lead_import=lead_import)
    form = MappingForm(request.POST or None, columns=preview["columns"],
                       mapping=lead_import.mapping,
                       initial={"has_header": lead_import.has_header})
    if request.method == "POST" and form.is_valid():
        try:
            lead_import_configure(lead_import=lead_import, mapping=form.mapping(),
                                  has_header=form.cleaned_data["has_header"])
            lead_import_start(lead_import=lead_import, dry_run="dry_run" in request.POST)
            return redirect("telephony:lead_import_detail", pk=lead_import.pk)
        except CampaignServiceError as exc:
            form.add_error(None, exc.message)
        except Exception as exc:  # the mapping's own ValidationError
            from django.core.exceptions import ValidationError
            if not isinstance(exc, ValidationError):
                raise
            form.add_error(None, exc)
    return render(request, "telephony/leads/mapping.html",
                  {"form": form, "preview": preview, "lead_import": lead_import})


@role_required(*MANAGE)
def lead_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport.objects.select_related("lead_list__campaign"),
                                    pk=pk)
    return render(request, "telephony/leads/import_detail.html", {
        "lead_import": lead_import, "progress": lead_import_progress(lead_import),
        "stale_seconds": settings.JOB_STALE_SECONDS,
        "issues": lead_import.issues.all()[:200]})


@role_required(*MANAGE)
def lead_import_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the progress bar polls."""
    return JsonResponse(lead_import_progress(get_object_or_404(LeadImport, pk=pk)))


@role_required(*MANAGE)
@require_POST
def lead_import_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport, pk=pk)
    try:
        if action == "cancel":
            lead_import_cancel(lead_import=lead_import)
        elif action == "resume":
            lead_import_resume(lead_import=lead_import)
        elif action == "import":  # after a dry run: the same file, for real
            if not (lead_import.dry_run and lead_import.status == LeadImport.Status.DONE):
                raise CampaignServiceError("Only a finished dry run can be imported.")
            again = LeadImport.objects.create(
                lead_list=lead_import.lead_list, file=lead_import.file.name,
                original_name=lead_import.original_name, size=lead_import.size,
                encoding=lead_import.encoding, delimiter=lead_import.delimiter,
                has_header=lead_import.has_header, mapping=lead_import.mapping,
                created_by=request.user)
            lead_import_start(lead_import=again, dry_run=False)
            return redirect("telephony:lead_import_detail", pk=again.pk)
    except CampaignServiceError as exc:
        messages.error(request, exc.message)
    return redirect("telephony:lead_import_detail", pk=lead_import.pk)


@role_required(*MANAGE)
def lead_import_issues(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    lead_import = get_object_or_404(LeadImport, pk=pk)

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["line", "kind", "value", "reason"])
        for issue in lead_import.issues.iterator(chunk_size=2000):
            writer.writerow([issue.line, issue.kind, defuse(issue.value), issue.reason])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{pk}-issues.csv"'
    return response


@role_required(*MANAGE)
def lead_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="leads-template.csv"'
    return response


@role_required(*MANAGE)
def lead_list_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    lead_list = get_object_or_404(LeadList, pk=pk)
    response = StreamingHttpResponse(leads_export(lead_list=lead_list),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{pk}.csv"'
    return response


urlpatterns = [
    path("campaigns/<int:pk>/lists/new/", lead_list_new, name="lead_list_new"),
    path("lists/<int:pk>/import/", lead_import_new, name="lead_import_new"),
    path("lists/<int:pk>/export/", lead_list_export, name="lead_list_export"),
    path("lists/template.csv", lead_template, name="lead_template"),
    path("imports/<int:pk>/", lead_import_detail, name="lead_import_detail"),
    path("imports/<int:pk>/mapping/", lead_import_mapping, name="lead_import_mapping"),
    path("imports/<int:pk>/status/", lead_import_status, name="lead_import_status"),
    path("imports/<int:pk>/issues.csv", lead_import_issues, name="lead_import_issues"),
    path("imports/<int:pk>/<str:action>/", lead_import_control, name="lead_import_control"),
]
