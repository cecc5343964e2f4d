"""Extensions (phones): admin-only create, edit, delete, detail, bulk create, CSV import; the
list and its export are views/phone_list.py."""

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from autodialer.input import query_int
from telephony.forms.phones import (
    AgentChoiceField,
    PhoneBulkForm,
    PhoneForm,
    PhoneImportForm,
    free_agents_queryset,
)
from telephony.models import Phone, PhoneImportJob
from telephony.realtime.phones import realtime_rows_for
from telephony.services.phone_csv import (
    phone_csv_check,
    phone_csv_import,
    phone_csv_template,
)
from telephony.services.phone_import_job import (
    BATCH,
    background_after,
    phone_import_cancel,
    phone_import_enqueue,
    phone_import_requeue,
)
from telephony.services.phones import (
    EDITABLE_FIELDS,
    BulkCollisionError,
    PhoneError,
    extension_range,
    phone_bulk_collisions,
    phone_bulk_create,
    phone_create,
    phone_delete,
    phone_update,
)
from telephony.services.registration import registration_of_phone
from telephony.views.csv_import import csv_download, csv_import_page
from telephony.views.import_jobs import (
    JobPages,
    job_cancel_page,
    job_page,
    job_requeue_page,
    job_status,
)
from telephony.views.service_errors import form_add_service_error
from users.roles import admin_required


def _fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}


@admin_required
def phone_create_view(request):
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone = phone_create(secret=form.cleaned_data["new_secret"], **_fields(form))
        except PhoneError as exc:
            form_add_service_error(form, exc)
        except IntegrityError:
            form.add_error("extension", "This extension was just created by someone else.")
        else:
            messages.success(request, f"Extension {phone.extension} created and written to "
                                      "Asterisk.")
            return redirect("telephony:phone_detail", pk=phone.pk)
    return render(request, "telephony/phones/phone_form.html",
                  {"form": form, "title": "Add extension"})


@admin_required
def phone_edit(request, pk):
    phone = get_object_or_404(Phone.objects.select_related("server", "user"), pk=pk)
    # The form gets its own copy: validation writes the posted values onto its instance.
    form = PhoneForm(request.POST or None, instance=Phone.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            phone_update(phone=phone, secret=form.cleaned_data["new_secret"],
                         regenerate_secret=form.cleaned_data["regenerate_secret"],
                         **_fields(form))
        except PhoneError as exc:
            form_add_service_error(form, exc)
        except IntegrityError:
            form.add_error(None, "Someone else changed this extension or agent at the same "
                                 "time; nothing was saved. Check and try again.")
        else:
            messages.success(request, f"Extension {phone.extension} saved.")
            return redirect("telephony:phone_detail", pk=phone.pk)
    return render(request, "telephony/phones/phone_form.html",
                  {"form": form, "title": f"Edit extension {phone.extension}", "phone": phone})


@admin_required
def phone_delete_view(request, pk):
    phone = get_object_or_404(Phone.objects.select_related("server", "user"), pk=pk)
    if request.method == "POST":
        phone_delete(phone=phone)
        messages.success(request, f"Extension {phone.extension} deleted; Asterisk no longer "
                                  "accepts it.")
        return redirect("telephony:phone_list")
    items = ["Its rows in ps_endpoints, ps_auths, ps_aors and any registration left in "
             "ps_contacts are removed: Asterisk stops accepting this phone at once."]
    if phone.user:
        items.append(f"{phone.user.username} will have no phone.")
    return render(request, "confirm.html", {
        "title": f"Delete extension {phone.extension} ({phone.name})?",
        "lead": "Nothing changes until you confirm. This is what will happen:",
        "items": items,
        "warning": "To stop the phone but keep its settings, edit it and untick “active” "
                   "instead.",
        "confirm_label": f"Delete extension {phone.extension}", "danger": True,
        "cancel_url": reverse("telephony:phone_detail", args=[phone.pk]),
    })


@admin_required
def phone_detail(request, pk):
    phone = get_object_or_404(Phone.objects.select_related("server", "user"), pk=pk)
    registration, problem = registration_of_phone(phone)
    return render(request, "telephony/phones/phone_detail.html", {
        "phone": phone,
        "rows": realtime_rows_for(phone.extension),
        "registration": registration,
        "registration_problem": problem,
    })


@admin_required
def phone_bulk_create_view(request):
    form = PhoneBulkForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        extensions = extension_range(data["start"], data["end"])
        collisions = phone_bulk_collisions(extensions=extensions)
        if "confirm" in request.POST and not collisions:
            try:
                phones = phone_bulk_create(**data)
            except BulkCollisionError as exc:
                collisions = exc.collisions
            except PhoneError as exc:
                form_add_service_error(form, exc)
            else:
                messages.success(request, f"{len(phones):,} extensions created "
                                          f"({extensions[0]}–{extensions[-1]}).")
                return redirect("telephony:phone_list")
        pattern = data["name_pattern"]
        preview = {
            "count": len(extensions), "first": extensions[0], "last": extensions[-1],
            "first_name": pattern.replace("{ext}", extensions[0]),
            "last_name": pattern.replace("{ext}", extensions[-1]),
            "collisions": collisions, "collisions_shown": collisions[:200],
        }
    return render(request, "telephony/phones/phone_bulk_form.html",
                  {"form": form, "preview": preview})


@admin_required
def phone_import(request):
    return csv_import_page(
        request, upload_form=PhoneImportForm, check=lambda data: phone_csv_check(data=data),
        apply=lambda data, fingerprint: phone_csv_import(data=data, fingerprint=fingerprint),
        template="telephony/phones/phone_import.html", done_url="telephony:phone_list",
        done_message=lambda plan: f"Import done: {len(plan.created)} created, "
                                  f"{len(plan.updated)} updated, written to Asterisk"
                                  + (f"; {plan.rejected} rejected row(s) skipped."
                                     if plan.rejected else "."),
        background=lambda data, fingerprint, writes: reverse(
            "telephony:phone_import_job", args=[phone_import_enqueue(
                data=data, fingerprint=fingerprint, user=request.user, writes=writes).pk]),
        background_after=background_after())


def _job_pages() -> JobPages:
    return JobPages(
        title="Extensions import", noun="extensions",
        crumbs=[("Extensions", reverse("telephony:phone_list"))],
        back=("Back to the extensions", reverse("telephony:phone_list")),
        again_url=reverse("telephony:phone_import"),
        page_url=lambda pk: reverse("telephony:phone_import_job", args=[pk]),
        status_url=lambda pk: reverse("telephony:phone_import_job_status", args=[pk]),
        cancel_url=lambda pk: reverse("telephony:phone_import_job_cancel", args=[pk]),
        requeue_url=lambda pk: reverse("telephony:phone_import_job_requeue", args=[pk]),
        batch_size=BATCH)


@admin_required
def phone_import_job(request, pk: int):
    """A background import's progress, then its result or its error."""
    return job_page(request, get_object_or_404(PhoneImportJob, pk=pk), _job_pages(),
                    extra={"stale_seconds": settings.JOB_STALE_SECONDS,
                           "done_note": "Written to Asterisk."})


@admin_required
def phone_import_job_status(request, pk: int):
    """What the progress bar polls."""
    return job_status(get_object_or_404(PhoneImportJob, pk=pk))


@admin_required
def phone_import_job_cancel(request, pk: int):
    """POST: the confirmation, then the cancel (after the current batch)."""
    return job_cancel_page(request, get_object_or_404(PhoneImportJob, pk=pk), _job_pages(),
                           lambda job: phone_import_cancel(job=job))


@admin_required
def phone_import_job_requeue(request, pk: int):
    return job_requeue_page(request, get_object_or_404(PhoneImportJob, pk=pk), _job_pages(),
                            lambda job: phone_import_requeue(job=job))


@admin_required
def phone_import_template(request):
    return csv_download(phone_csv_template(), "extensions-template.csv")


AGENT_SEARCH_LIMIT = 50


@admin_required
def phone_agent_search(request):
    """The extension form's agent picker: agents without an active phone whose username or
    name holds ?q= (plus ?phone='s current agent), at most 50, as JSON."""
    phone_pk = query_int(request, "phone", minimum=1)
    keep = Phone.objects.filter(pk=phone_pk).values_list("user_id", flat=True).first() \
        if phone_pk else None
    agents = free_agents_queryset(keep=keep)
    q = request.GET.get("q", "").strip()[:150]
    if q:
        agents = agents.filter(Q(username__icontains=q) | Q(first_name__icontains=q)
                               | Q(last_name__icontains=q))
    label = AgentChoiceField(queryset=agents).label_from_instance
    found = list(agents[:AGENT_SEARCH_LIMIT + 1])
    return JsonResponse({
        "agents": [{"id": agent.pk, "label": label(agent)} for agent in
                   found[:AGENT_SEARCH_LIMIT]],
        "more": len(found) > AGENT_SEARCH_LIMIT,
    })


urlpatterns = [
    path("extensions/agents/", phone_agent_search, name="phone_agent_search"),
    path("extensions/add/", phone_create_view, name="phone_create"),
    path("extensions/bulk/", phone_bulk_create_view, name="phone_bulk_create"),
    path("extensions/import/", phone_import, name="phone_import"),
    path("extensions/import/template/", phone_import_template, name="phone_import_template"),
    path("extensions/import/jobs/<int:pk>/", phone_import_job, name="phone_import_job"),
    path("extensions/import/jobs/<int:pk>/status/", phone_import_job_status,
         name="phone_import_job_status"),
    path("extensions/import/jobs/<int:pk>/cancel/", phone_import_job_cancel,
         name="phone_import_job_cancel"),
    path("extensions/import/jobs/<int:pk>/requeue/", phone_import_job_requeue,
         name="phone_import_job_requeue"),
    path("extensions/<int:pk>/", phone_detail, name="phone_detail"),
    path("extensions/<int:pk>/edit/", phone_edit, name="phone_edit"),
    path("extensions/<int:pk>/delete/", phone_delete_view, name="phone_delete"),
]
