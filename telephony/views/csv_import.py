"""The page shape of a CSV import (extensions, users): upload, dry run, confirm.

The upload is only checked (the service's `check`, nothing written) and shows the summary,
"12 new, 3 updated, 2 rejected", with every rejected row's line, value and reason. The
confirmation posts the same bytes back with the plan's fingerprint to the service's `apply`,
which writes the good rows in one transaction, or refuses with the new plan when something
changed in between. A page may pass `background`: a confirmation writing more than
`background_after` rows is then handed to it (it queues the same `apply` as a job) and the
admin is sent to the URL it returns, the job's progress page.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from telephony.forms.csv_import import CsvConfirmForm
from telephony.services.csv_table import CsvRefused, ImportPlan, PlanChanged, Problem

PROBLEMS_SHOWN = 1000


def csv_import_page(request, *, upload_form: type[forms.Form],
                    check: Callable[[bytes], ImportPlan],
                    apply: Callable[[bytes, str], ImportPlan], template: str,
                    done_url: str, done_message: Callable[[ImportPlan], str],
                    context: dict | None = None,
                    background: Callable[[bytes, str, int], str] | None = None,
                    background_after: int = 0) -> HttpResponse:
    confirming = request.method == "POST" and "confirm" in request.POST
    form = upload_form(request.POST, request.FILES) if request.method == "POST" \
        and not confirming else upload_form()
    plan = refused = changed = data = None
    if confirming:
        confirm = CsvConfirmForm(request.POST)
        if not confirm.is_valid():
            refused = [Problem(None, "", "", "The confirmation was incomplete; upload the "
                                             "file again.")]
        else:
            data = confirm.cleaned_data["data"]
            writes = confirm.cleaned_data["writes"] or 0
            if background is not None and writes > background_after:
                return redirect(background(data, confirm.cleaned_data["fingerprint"], writes))
            try:
                plan = apply(data, confirm.cleaned_data["fingerprint"])
            except PlanChanged as exc:
                plan, changed = exc.plan, exc.message
            except CsvRefused as exc:
                refused = exc.problems
            else:
                messages.success(request, done_message(plan))
                return redirect(done_url)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        try:
            plan = check(data)
        except CsvRefused as exc:
            refused = exc.problems
    return render(request, template, {
        "cancel_url": reverse(done_url), **(context or {}), "form": form, "plan": plan,
        "refused": refused, "changed": changed,
        "problems_shown": plan.problems[:PROBLEMS_SHOWN] if plan else [],
        "confirm_data": CsvConfirmForm.encode(data) if plan and data is not None else "",
    })


def csv_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
