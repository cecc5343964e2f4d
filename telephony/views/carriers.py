"""Telephony → Carriers: SIP trunks and the realtime rows each one writes."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from telephony.forms.carriers import CarrierForm, address_clash_warnings
from telephony.models.carriers import Carrier
from telephony.realtime.carriers import carrier_object_id, carrier_rows_for
from telephony.services import carriers as services
from telephony.services.carrier_health import carrier_health, carriers_health
from telephony.services.dialplan import first_active_carrier
from users.roles import admin_required


def _warn(request, texts: list[str]) -> None:
    for text in texts:
        messages.warning(request, text)


def _clashes(carrier: Carrier) -> list[str]:
    if carrier.auth_mode != Carrier.AuthMode.IP:
        return []
    return address_clash_warnings(carrier.host)


@admin_required
def carrier_list(request):
    carriers = list(Carrier.objects.select_related("server").order_by("order", "name"))
    without = [c for c in carriers
               if c.is_active and not (c.caller_id_number or c.server.default_caller_id)]
    health = carriers_health(carriers)
    rows = [(carrier, health.get(carrier.pk)) for carrier in carriers]
    return render(request, "telephony/carriers/carrier_list.html",
                  {"rows": rows, "outbound": first_active_carrier(),
                   "without_caller_id": without})


@admin_required
def carrier_create(request):
    form = CarrierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        carrier = services.carrier_create(**form.cleaned_data)
        messages.success(request, f"Carrier {carrier.name} saved as "
                                  f"{carrier_object_id(carrier.slug)}.")
        _warn(request, form.warnings + carrier.warnings)
        return redirect("telephony:carrier_detail", pk=carrier.pk)
    return render(request, "telephony/carriers/carrier_form.html",
                  {"form": form, "title": "Add carrier",
                   "warnings": form.warnings if form.is_bound else []})


@admin_required
def carrier_edit(request, pk):
    carrier = get_object_or_404(Carrier, pk=pk)
    form = CarrierForm(request.POST or None, instance=carrier)
    if request.method == "POST" and form.is_valid():
        carrier = services.carrier_update(carrier=carrier, **form.cleaned_data)
        state = "written" if carrier.is_active else "removed (inactive)"
        messages.success(request, f"Carrier {carrier.name} saved; realtime rows {state}.")
        _warn(request, form.warnings + carrier.warnings)
        return redirect("telephony:carrier_detail", pk=carrier.pk)
    warnings = form.warnings if form.is_bound else _clashes(carrier)
    return render(request, "telephony/carriers/carrier_form.html",
                  {"form": form, "title": f"Edit carrier {carrier.name}", "carrier": carrier,
                   "warnings": warnings})


@admin_required
def carrier_detail(request, pk):
    carrier = get_object_or_404(Carrier.objects.select_related("server"), pk=pk)
    return render(request, "telephony/carriers/carrier_detail.html", {
        "carrier": carrier,
        "no_caller_id": not (carrier.caller_id_number or carrier.server.default_caller_id),
        "object_id": carrier_object_id(carrier.slug),
        "tables": carrier_rows_for(carrier).items(),
        "routes": carrier.number_routes(),
        "health": carrier_health(carrier),
    })


@admin_required
def carrier_delete(request, pk):
    carrier = get_object_or_404(Carrier, pk=pk)
    if request.method == "POST":
        warnings = services.carrier_delete(carrier=carrier)
        messages.success(request, f"Carrier {carrier.name} and its realtime rows deleted.")
        _warn(request, warnings)
        return redirect("telephony:carrier_list")
    endpoint = f"trunk-{carrier.slug.lower()}"
    return render(request, "confirm.html", {
        "title": f"Delete carrier {carrier.name}?",
        "lead": "Nothing changes until you confirm. This is what will happen:",
        "items": [f"Its rows ({endpoint} in ps_endpoints, ps_aors, ps_auths, ps_registrations "
                  "and ps_endpoint_id_ips) are removed at once: calls through it stop.",
                  "Scaffolded outbound rules that still point at it fail until you scaffold "
                  "again."],
        "confirm_label": f"Delete carrier {carrier.name}", "danger": True,
        "cancel_url": reverse("telephony:carrier_detail", args=[carrier.pk]),
    })


urlpatterns = [
    path("carriers/", carrier_list, name="carrier_list"),
    path("carriers/new/", carrier_create, name="carrier_create"),
    path("carriers/<int:pk>/", carrier_detail, name="carrier_detail"),
    path("carriers/<int:pk>/edit/", carrier_edit, name="carrier_edit"),
    path("carriers/<int:pk>/delete/", carrier_delete, name="carrier_delete"),
]
