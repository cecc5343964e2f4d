"""The one place a refused service call (`ServiceError`) becomes what the user sees: an error on
the form that was submitted, or the API's JSON error with the error's status."""

from __future__ import annotations

from django import forms
from django.http import JsonResponse

from telephony.services.errors import ServiceError


def form_add_service_error(form: forms.BaseForm, error: ServiceError) -> None:
    """Put the message next to the field it is about, or at the top of the form when the form
    has no such field."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def service_error_json(error: ServiceError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)
