"""Bulk actions on the extensions ticked in the list: assign to a server, (de)activate, delete
(each after a confirmation page that lists what will change) and export the selection."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from telephony.forms.phone_selection import ACTIONS, PhoneSelectionForm
from telephony.services.phone_csv import phone_csv_export
from telephony.services.phones import (
    PhoneError,
    phone_bulk_delete,
    phone_bulk_move,
    phone_bulk_set_active,
)
from users.roles import admin_required


def _changes(action: str, phones, server) -> list[str]:
    """One line per extension: what the confirmation page says will happen to it."""
    lines = []
    for phone in phones:
        label = f"{phone.extension} ({phone.name})"
        if action == "server":
            lines.append(f"{label}: {phone.server.name} → {server.name}" if phone.server_id
                         != server.pk else f"{label}: already on {server.name}, unchanged")
        elif action == "activate":
            lines.append(f"{label}: written to Asterisk" if not phone.is_active
                         else f"{label}: already active, unchanged")
        elif action == "deactivate":
            lines.append(f"{label}: removed from Asterisk, settings kept" if phone.is_active
                         else f"{label}: already inactive, unchanged")
        else:
            agent = f", {phone.user.username} is left without a phone" if phone.user else ""
            lines.append(f"{label}: deleted with its Asterisk rows{agent}")
    return lines


SAMPLE = 20  # lines of "what will change" shown for a selection of every matching extension


def _summary(action: str, phones, server) -> list[str]:
    """What happens to every matching extension, counted (the lines below show a sample)."""
    total = phones.count()
    if action == "server":
        same = phones.filter(server=server).count()
        return [f"{total - same:,} extension(s) move to {server.name}; {same:,} already on it, "
                "unchanged."]
    if action in ("activate", "deactivate"):
        same = phones.filter(is_active=action == "activate").count()
        effect = "written to Asterisk" if action == "activate" else \
            "removed from Asterisk, settings kept"
        return [f"{total - same:,} extension(s) {effect}; {same:,} already "
                f"{'active' if action == 'activate' else 'inactive'}, unchanged."]
    agents = phones.filter(user__isnull=False).count()
    return [f"{total:,} extension(s) deleted with their Asterisk rows; {agents:,} agent(s) "
            "left without a phone."]


def _apply(action: str, phones, server) -> tuple[int, str]:
    """How many extensions the action covered, and what the message says."""
    if action == "server":
        count = len(phone_bulk_move(phones=phones, server=server))
        return count, f"{count:,} extension(s) assigned to {server.name}."
    if action in ("activate", "deactivate"):
        count = len(phone_bulk_set_active(phones=phones, active=action == "activate"))
        return count, f"{count:,} extension(s) {action}d."
    count = phone_bulk_delete(phones=phones)
    return count, f"{count:,} extension(s) deleted; Asterisk no longer accepts them."


def _export(phones) -> HttpResponse:
    response = HttpResponse(phone_csv_export(phones=phones),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="extensions-selection.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _confirmation(request, action: str, phones, server, phone_filter) -> HttpResponse:
    verb = ACTIONS[action] if action != "server" else f"Assign to {server.name}"
    hidden = [("action", action), ("server", server.pk if server else "")]
    if phone_filter is None:
        phones = list(phones)
        count, items = len(phones), _changes(action, phones, server)
        hidden += [("ids", phone.pk) for phone in phones]
        title, lead = (f"{verb}: {count} extension(s)?",
                       "Nothing changes until you confirm. This is what will happen:")
    else:
        count = phones.count()
        sample = list(phones[:SAMPLE])
        items = _summary(action, phones, server) + _changes(action, sample, server)
        if count > len(sample):
            items.append(f"… and {count - len(sample):,} more.")
        hidden += [("scope", "matching"), ("shown", count), *phone_filter.as_fields()]
        title = f"{verb}: all {count:,} matching extension(s)?"
        lead = (f"This applies to {phone_filter.describe()}: {count:,} now. Nothing changes "
                "until you confirm; the filter is then applied again, in one transaction, so "
                "an extension added or changed meanwhile counts if it matches then. This is "
                "what will happen:")
    return render(request, "confirm.html", {
        "title": title, "lead": lead, "items": items, "hidden": hidden,
        "crumbs": [("Extensions", reverse("telephony:phone_list"))],
        "confirm_label": f"{verb} {count:,} extension(s)",
        "danger": action in ("delete", "deactivate"),
        "cancel_url": reverse("telephony:phone_list"),
    })


@admin_required
@require_POST
def phone_selection(request):
    form = PhoneSelectionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("telephony:phone_list")
    action, phones, server, phone_filter = (form.cleaned_data[key] for key in (
        "action", "phones", "server", "filter"))
    if action == "export":
        return _export(phones)
    if "confirm" not in request.POST:
        return _confirmation(request, action, phones, server, phone_filter)
    try:
        count, done = _apply(action, phones, server)
    except PhoneError as exc:
        messages.error(request, f"Nothing was changed: {exc.message}")
    else:
        shown = request.POST.get("shown", "")
        if phone_filter is not None and shown.isascii() and shown.isdigit() \
                and len(shown) < 10 and int(shown) != count:
            done += (f" The filter matched {count:,} when you confirmed, not the "
                     f"{int(shown):,} shown.")
        messages.success(request, done)
    return redirect("telephony:phone_list")


urlpatterns = [
    path("extensions/selection/", phone_selection, name="phone_selection"),
]
