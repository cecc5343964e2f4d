"""Telephony → Dialplan: contexts, their rules, the extensions.conf preview and the scaffold."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from telephony.forms.dialplan import DialplanContextForm, DialplanRuleForm
from telephony.models.dialplan import DialplanContext, DialplanExtension
from telephony.realtime.dialplan import (
    context_rules,
    dialplan_orphan_rows,
    dialplan_preview,
    switch_stanza,
)
from telephony.services import dialplan as services
from telephony.views.service_errors import form_add_service_error
from users.roles import admin_required


@admin_required
def dialplan_list(request):
    contexts = DialplanContext.objects.annotate(rule_count=Count("extensions")).order_by("name")
    orphan_contexts = sorted(set(dialplan_orphan_rows().values_list("context", flat=True)))
    return render(request, "telephony/dialplan/context_list.html", {
        "contexts": contexts,
        "orphan_contexts": orphan_contexts,
        "agents_context": services.AGENTS_CONTEXT,
    })


@admin_required
def dialplan_context_create(request):
    form = DialplanContextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        context = services.context_create(**form.cleaned_data)
        messages.success(request, f"Context {context.name} created.")
        return redirect("telephony:dialplan_context_detail", pk=context.pk)
    return render(request, "telephony/dialplan/context_form.html",
                  {"form": form, "title": "Add context"})


@admin_required
def dialplan_context_edit(request, pk):
    context = get_object_or_404(DialplanContext, pk=pk)
    form = DialplanContextForm(request.POST or None, instance=context)
    if request.method == "POST" and form.is_valid():
        try:
            services.context_update(context=context, **form.cleaned_data)
        except services.DialplanError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, f"Context {form.cleaned_data['name']} saved.")
            return redirect("telephony:dialplan_context_detail", pk=context.pk)
    return render(request, "telephony/dialplan/context_form.html",
                  {"form": form, "title": f"Edit context {context.name}", "context_obj": context})


@admin_required
def dialplan_context_delete(request, pk):
    context = get_object_or_404(DialplanContext, pk=pk)
    if request.method == "POST":
        try:
            services.context_delete(context=context)
        except services.DialplanError as error:
            messages.error(request, error.message)
            return redirect("telephony:dialplan_context_detail", pk=pk)
        messages.success(request, f"Context {context.name} and its realtime rows deleted.")
        return redirect("telephony:dialplan_list")
    return render(request, "confirm.html", {
        "title": f"Delete context {context.name}?",
        "lead": "Nothing changes until you confirm. This is what will happen:",
        "items": [f"Its {context.extensions.count()} rule(s) and their rows in "
                  "extensions_table are deleted at once.",
                  f"Calls into {context.name} will find no extension."],
        "confirm_label": f"Delete context {context.name}", "danger": True,
        "cancel_url": reverse("telephony:dialplan_context_detail", args=[context.pk]),
    })


@admin_required
def dialplan_context_detail(request, pk):
    context = get_object_or_404(DialplanContext, pk=pk)
    return render(request, "telephony/dialplan/context_detail.html", {
        "context_obj": context,
        "rules": context_rules(context),
        "preview": dialplan_preview(context),
        "stanza": switch_stanza([context.name]),
    })


def _rule_form_page(request, form, context, title, rule=None):
    return render(request, "telephony/dialplan/rule_form.html",
                  {"form": form, "context_obj": context, "title": title, "rule": rule})


@admin_required
def dialplan_rule_create(request, pk):
    context = get_object_or_404(DialplanContext, pk=pk)
    form = DialplanRuleForm(request.POST or None, initial={"pattern": request.GET.get("pattern")})
    if request.method == "POST" and form.is_valid():
        rule = services.extension_create(context=context, **form.cleaned_data)
        messages.success(request, f"Added {rule.pattern},{rule.priority},{rule.application}.")
        return redirect("telephony:dialplan_context_detail", pk=context.pk)
    return _rule_form_page(request, form, context, f"Add a rule to {context.name}")


@admin_required
def dialplan_rule_edit(request, pk):
    rule = get_object_or_404(DialplanExtension.objects.select_related("context"), pk=pk)
    form = DialplanRuleForm(request.POST or None, initial={
        "pattern": rule.pattern, "priority": rule.priority,
        "application": rule.application, "arguments": rule.arguments})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data["priority"] == rule.priority and data["pattern"] == rule.pattern:
            data["priority"] = None  # unchanged: keep its place
        rule = services.extension_update(extension=rule, **data)
        messages.success(request, f"Saved {rule.pattern},{rule.priority},{rule.application}.")
        return redirect("telephony:dialplan_context_detail", pk=rule.context_id)
    return _rule_form_page(request, form, rule.context, f"Edit rule in {rule.context.name}", rule)


@admin_required
def dialplan_rule_delete(request, pk):
    rule = get_object_or_404(DialplanExtension.objects.select_related("context"), pk=pk)
    back = reverse("telephony:dialplan_context_detail", args=[rule.context_id])
    if request.method != "POST":
        return render(request, "confirm.html", {
            "title": f"Delete {rule.pattern},{rule.priority},{rule.application}?",
            "crumbs": [("Dialplan", reverse("telephony:dialplan_list")),
                       (rule.context.name, back)],
            "lead": f"The rule leaves {rule.context.name} and its row in extensions_table at "
                    "once: the next call no longer matches it.",
            "confirm_label": "Delete rule", "danger": True, "cancel_url": back})
    services.extension_delete(extension=rule)
    messages.success(request, f"Deleted {rule.pattern},{rule.priority},{rule.application}.")
    return redirect("telephony:dialplan_context_detail", pk=rule.context_id)


@admin_required
@require_POST
def dialplan_rule_move(request, pk, direction):
    if direction not in ("up", "down"):
        raise Http404("Move a rule up or down.")
    rule = get_object_or_404(DialplanExtension, pk=pk)
    services.extension_move(extension=rule, direction=direction)
    return redirect("telephony:dialplan_context_detail", pk=rule.context_id)


@admin_required
def dialplan_scaffold(request):
    if request.method != "POST":
        name = services.AGENTS_CONTEXT
        return render(request, "confirm.html", {
            "title": f"Write the default {name} context?",
            "crumbs": [("Dialplan", reverse("telephony:dialplan_list"))],
            "lead": "The scaffold rewrites the rules it wrote before (internal calls and the "
                    "outbound patterns); rules you added stay as they are.",
            "confirm_label": "Write the default context",
            "cancel_url": reverse("telephony:dialplan_list")})
    result = services.dialplan_scaffold_agents()
    for text in result.messages:
        level = messages.WARNING if (not result.carrier and "No active carrier" in text) \
            else messages.SUCCESS
        messages.add_message(request, level, text)
    return redirect("telephony:dialplan_context_detail", pk=result.context.pk)


urlpatterns = [
    path("dialplan/", dialplan_list, name="dialplan_list"),
    path("dialplan/scaffold/", dialplan_scaffold, name="dialplan_scaffold"),
    path("dialplan/contexts/new/", dialplan_context_create, name="dialplan_context_create"),
    path("dialplan/contexts/<int:pk>/", dialplan_context_detail, name="dialplan_context_detail"),
    path("dialplan/contexts/<int:pk>/edit/", dialplan_context_edit, name="dialplan_context_edit"),
    path("dialplan/contexts/<int:pk>/delete/", dialplan_context_delete,
         name="dialplan_context_delete"),
    path("dialplan/contexts/<int:pk>/rules/new/", dialplan_rule_create,
         name="dialplan_rule_create"),
    path("dialplan/rules/<int:pk>/edit/", dialplan_rule_edit, name="dialplan_rule_edit"),
    path("dialplan/rules/<int:pk>/delete/", dialplan_rule_delete, name="dialplan_rule_delete"),
    path("dialplan/rules/<int:pk>/move/<str:direction>/", dialplan_rule_move,
         name="dialplan_rule_move"),
]
