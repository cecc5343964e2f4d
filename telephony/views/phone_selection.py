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


def _apply(action: str, phones, server) -> str:
    if action == "server":
        phone_bulk_move(phones=phones, server=server)
        return f"{len(phones)} extension(s) assigned to {server.name}."
    if action in ("activate", "deactivate"):
        phone_bulk_set_active(phones=phones, active=action == "activate")
        return f"{len(phones)} extension(s) {action}d."
    count = phone_bulk_delete(phones=phones)
    return f"{count} extension(s) deleted; Asterisk no longer accepts them."


@admin_required
@require_POST
def phone_selection(request):
    form = PhoneSelectionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("telephony:phone_list")
    action, phones, server = (form.cleaned_data[key] for key in ("action", "ids", "server"))
    phones = list(phones)
    if action == "export":
        response = HttpResponse(phone_csv_export(phones=phones),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="extensions-selection.csv"'
        response["Cache-Control"] = "no-store"
        return response
    if "confirm" in request.POST:
        try:
            messages.success(request, _apply(action, phones, server))
        except PhoneError as exc:
            messages.error(request, f"Nothing was changed: {exc.message}")
        return redirect("telephony:phone_list")
    verb = ACTIONS[action] if action != "server" else f"Assign to {server.name}"
    return render(request, "confirm.html", {
        "title": f"{verb}: {len(phones)} extension(s)?",
        "crumbs": [("Extensions", reverse("telephony:phone_list"))],
        "lead": "Nothing changes until you confirm. This is what will happen:",
        "items": _changes(action, phones, server),
        "hidden": [("action", action), ("server", server.pk if server else "")]
        + [("ids", phone.pk) for phone in phones],
        "confirm_label": f"{verb} {len(phones)} extension(s)",
        "danger": action in ("delete", "deactivate"),
        "cancel_url": reverse("telephony:phone_list"),
    })


urlpatterns = [
    path("extensions/selection/", phone_selection, name="phone_selection"),
]
