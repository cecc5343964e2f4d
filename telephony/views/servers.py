"""Asterisk servers: admin-only list, create, edit, delete and detail."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from telephony.forms.servers import AsteriskServerForm
from telephony.models import AsteriskServer
from telephony.services.servers import (
    ServerInUseError,
    server_create,
    server_delete,
    server_update,
)
from users.roles import admin_required


@admin_required
def server_list(request):
    # Counted in the one query: the Delete button shows only where a delete would succeed.
    servers = AsteriskServer.objects.order_by("name").annotate(
        phone_total=Count("phones", distinct=True), carrier_total=Count("carriers", distinct=True))
    return render(request, "telephony/servers/server_list.html", {"servers": servers})


@admin_required
def server_create_view(request):
    form = AsteriskServerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        server = server_create(**form.cleaned_data)
        messages.success(request, f"Server {server.name} created. Test its connection next.")
        return redirect("telephony:server_detail", pk=server.pk)
    return render(request, "telephony/servers/server_form.html",
                  {"form": form, "title": "Add Asterisk server"})


@admin_required
def server_edit(request, pk):
    server = get_object_or_404(AsteriskServer, pk=pk)
    # The form gets its own copy: validation writes the posted values onto its instance, and
    # server_update compares them with what is stored.
    form = AsteriskServerForm(request.POST or None, instance=AsteriskServer.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        server_update(server=server, **form.cleaned_data)
        messages.success(request, f"Server {server.name} saved.")
        return redirect("telephony:server_detail", pk=server.pk)
    return render(request, "telephony/servers/server_form.html",
                  {"form": form, "title": f"Edit server {server.name}", "server": server})


@admin_required
def server_delete_view(request, pk):
    server = get_object_or_404(AsteriskServer, pk=pk)
    in_use = server.phones.count() + server.carriers.count()
    if request.method == "POST":
        try:
            server_delete(server=server)
        except ServerInUseError as exc:
            messages.error(request, exc.message)
            return redirect("telephony:server_detail", pk=server.pk)
        messages.success(request, f"Server {server.name} deleted.")
        return redirect("telephony:server_list")
    context = {"title": f"Delete server {server.name}?", "danger": True,
               "confirm_label": f"Delete server {server.name}",
               "cancel_url": reverse("telephony:server_detail", args=[server.pk])}
    if in_use:
        context.update(blocked=True, warning=(
            f"This server is used by {in_use} extension(s) or carrier(s). It cannot be "
            "deleted until they are moved to another server or deleted."))
    else:
        context.update(lead="The server record is removed from autodialer. Asterisk itself "
                            "is not touched.")
    return render(request, "confirm.html", context)


@admin_required
def server_detail(request, pk):
    server = get_object_or_404(AsteriskServer, pk=pk)
    return render(request, "telephony/servers/server_detail.html", {
        "server": server,
        "phone_count": server.phones.count(),
        "active_phone_count": server.phones.filter(is_active=True).count(),
        "carrier_count": server.carriers.count(),
    })


urlpatterns = [
    path("servers/", server_list, name="server_list"),
    path("servers/add/", server_create_view, name="server_create"),
    path("servers/<int:pk>/", server_detail, name="server_detail"),
    path("servers/<int:pk>/edit/", server_edit, name="server_edit"),
    path("servers/<int:pk>/delete/", server_delete_view, name="server_delete"),
]
