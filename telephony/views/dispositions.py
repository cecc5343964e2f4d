"""A campaign's dispositions: list, add, edit (admins and supervisors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from telephony.forms.leads import DispositionForm
from telephony.models import Campaign, Disposition
from telephony.services.dispositions import disposition_save
from users.roles import ADMIN, SUPERVISOR, role_required


@role_required(ADMIN, SUPERVISOR)
def disposition_list(request: HttpRequest, pk: int, disposition_pk: int | None = None
                     ) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    disposition = (get_object_or_404(Disposition, pk=disposition_pk, campaign=campaign)
                   if disposition_pk else None)
    form = DispositionForm(request.POST or None, instance=disposition)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = disposition_save(campaign=campaign, fields=fields, disposition=disposition)
            messages.success(request, f"Disposition {saved.name} saved.")
            return redirect("telephony:disposition_list", pk=campaign.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "telephony/campaigns/dispositions.html", {
        "campaign": campaign, "form": form, "editing": disposition,
        "dispositions": campaign.dispositions.all()})


urlpatterns = [
    path("campaigns/<int:pk>/dispositions/", disposition_list, name="disposition_list"),
    path("campaigns/<int:pk>/dispositions/<int:disposition_pk>/", disposition_list,
         name="disposition_edit"),
]
