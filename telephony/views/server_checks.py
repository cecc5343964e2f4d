"""Test Connection and Diagnose buttons of the server page (admins only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from telephony.models import AsteriskServer
from telephony.services.asterisk import AsteriskService
from users.roles import admin_required


def server_page(server: AsteriskServer) -> str:
    return reverse("telephony:server_detail", args=[server.pk])


@admin_required
@require_POST
def server_test_connection(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(AsteriskServer, pk=pk)
    result = AsteriskService(server).test_connection()
    if result.ok:
        messages.success(request, f"{server.name}: connected to Asterisk {result.version}.")
    else:
        messages.error(request, f"{server.name}: connection test failed.")
    for label, check in (("ARI", result.ari), ("AMI", result.ami)):
        level = messages.SUCCESS if check.ok else messages.ERROR
        messages.add_message(request, level, f"{label}: {check.message}")
    return redirect(server_page(server))


@admin_required
@require_POST
def server_diagnose(request: HttpRequest, pk: int) -> HttpResponse:
    server = get_object_or_404(AsteriskServer, pk=pk)
    checks = AsteriskService(server).diagnose()
    failed = [check for check in checks if check.status == "fail"]
    # The headline claims only what was checked: "sees its extensions" needs an extension.
    skipped = [check for check in checks if check.status == "skip"]
    return render(request, "telephony/servers/diagnose.html",
                  {"server": server, "checks": checks, "failed": failed, "skipped": skipped,
                   "back_url": server_page(server)})


urlpatterns = [
    path("servers/<int:pk>/test-connection/", server_test_connection,
         name="server_test_connection"),
    path("servers/<int:pk>/diagnose/", server_diagnose, name="server_diagnose"),
]
