"""The page shape of a CSV import (extensions, users): upload, dry run, confirm.

The upload is only checked (the service's `check`, nothing written) and shows the summary,
"12 new, 3 updated, 2 rejected", with every rejected row's line, value and reason. The
confirmation posts the same bytes back with the plan's fingerprint to the service's `apply`,
which writes the good rows in one transaction, or refuses with the new plan when something
changed in between.
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
                    context: dict | None = None) -> HttpResponse:
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
