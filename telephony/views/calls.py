"""Calls: the call-control JSON API of docs/api.md, and the call log pages.

The API answers JSON for every outcome, errors included (`{"error", "code"}` with the status
of docs/api.md): a script never gets a login page, an HTML 403 or a 500 for Asterisk trouble.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from autodialer.input import BadInput, json_object
from telephony.asterisk.errors import AsteriskError
from telephony.forms.calls import CallFilterForm
from telephony.models import Call
from telephony.services.call_log import call_log_csv
from telephony.services.calls import (
    AsteriskCallError,
    CallRejected,
    call_current,
    call_hangup,
    call_originate,
    call_transfer,
    calls_expire_stale,
    own_call,
)
from telephony.services.errors import ServiceError
from telephony.views.service_errors import service_error_json
from users.roles import ADMIN, AGENT, SUPERVISOR, has_any_role, is_supervisor, role_required


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


def api_view(*, methods: tuple[str, ...], roles: tuple[str, ...] = (AGENT,)):
    """Session auth, role, method and CSRF checks answering JSON; a ServiceError → its JSON
    and status."""

    def decorator(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # checked below, after authentication, so the failure is JSON too
        @never_cache
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _error(401, "not_logged_in", "Not logged in")
            if not has_any_role(request.user, roles):
                return _error(403, "forbidden", f"This needs the role: {' or '.join(roles)}")
            if request.method not in methods:
                response = _error(405, "method_not_allowed", f"Use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            if request.method == "POST" and _csrf_rejected(request):
                return _error(403, "csrf_failed", "CSRF check failed: send the csrftoken "
                                                  "cookie's value as the X-CSRFToken header")
            try:
                return view(request, *args, **kwargs)
            except ServiceError as exc:
                return service_error_json(exc)
            except AsteriskError as exc:  # belt and braces: services wrap these already
                return service_error_json(AsteriskCallError.from_ami(exc))

        wrapped.required_roles = roles
        wrapped.is_api = True  # its errors, the middlewares' too, are JSON
        return wrapped

    return decorator


def _csrf_rejected(request: HttpRequest) -> bool:
    # The middleware's own check (as DRF does): token, Origin and Referer rules unchanged.
    return CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {}) is not None


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        return json_object(request)
    except BadInput as error:
        raise CallRejected("invalid_json", error.message) from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def call_json(call: Call) -> dict[str, Any]:
    """The `{call}` object of docs/api.md."""
    return {
        "call_id": str(call.id),
        "number": call.number,
        "status": call.status,
        "status_label": call.get_status_display(),
        "is_live": call.is_live,
        "direction": call.direction,
        # Not started by the app: dialled on the phone, or a call to it (carrier, colleague).
        "observed": call.observed,
        "created_at": _iso(call.created_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration": call.duration,
        "hangup_cause": call.hangup_cause,
        "hangup_cause_text": call.hangup_cause_text,
        "transferred_to": call.transferred_to,
        "transfer_result": call.transfer_result,
        "error": call.error_message,
        "campaign": call.campaign.name if call.campaign_id else None,
        "can_hangup": call.is_live,
        # Answered by the dialplan itself (no far end in a bridge): nothing to transfer.
        "can_transfer": (call.status == Call.Status.ANSWERED and bool(call.channel)
                         and bool(call.peer_channel)),
    }


# --- the API ---
@api_view(methods=("POST",))
def originate(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    answer = call_originate(user=request.user, number=data.get("phone_number"),
                            campaign_id=data.get("campaign_id"),
                            idempotency_key=request.headers.get("Idempotency-Key"))
    return JsonResponse(answer, status=201)


@api_view(methods=("POST",))
def hangup(request: HttpRequest) -> JsonResponse:
    call = call_hangup(user=request.user, call_id=_body(request).get("call_id"))
    return JsonResponse(call_json(call))


@api_view(methods=("POST",))
def transfer(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    call = call_transfer(user=request.user, call_id=data.get("call_id"),
                         target=data.get("target"))
    return JsonResponse(call_json(call))


@api_view(methods=("GET",))
def current(request: HttpRequest) -> JsonResponse:
    call = call_current(user=request.user)
    return JsonResponse({"call": call_json(call) if call else None})


@api_view(methods=("GET",))
def status(request: HttpRequest, call_id) -> JsonResponse:
    calls_expire_stale(user=request.user)
    return JsonResponse({"call": call_json(own_call(request.user, call_id))})


# --- the call log ---
def _visible_calls(user) -> Any:
    calls = Call.objects.select_related("user", "phone", "campaign", "server")
    return calls if is_supervisor(user) else calls.filter(user=user)


@role_required(ADMIN, SUPERVISOR, AGENT)
def call_list(request: HttpRequest) -> HttpResponse:
    sees_all = is_supervisor(request.user)
    form = CallFilterForm(request.GET or None, sees_all=sees_all)
    calls = _visible_calls(request.user)
    if form.is_valid():
        calls = form.filter(calls)
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    return render(request, "telephony/calls/call_list.html",
                  {"page": page, "form": form, "sees_all": sees_all})


@role_required(ADMIN, SUPERVISOR, AGENT)
def call_export(request: HttpRequest) -> HttpResponse:
    """The filtered call log as CSV: the same calls the list shows, every page of them."""
    form = CallFilterForm(request.GET or None, sees_all=is_supervisor(request.user))
    calls = _visible_calls(request.user)
    if form.is_bound and not form.is_valid():
        # An export of every call instead of the filtered ones would be worse than none.
        raise BadInput("filters", "The filters are not valid: " + " ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    if form.is_bound:
        calls = form.filter(calls)
    response = StreamingHttpResponse(call_log_csv(calls.iterator(chunk_size=2000)),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


@role_required(ADMIN, SUPERVISOR, AGENT)
def call_detail(request: HttpRequest, call_id) -> HttpResponse:
    call = get_object_or_404(_visible_calls(request.user), pk=call_id)
    return render(request, "telephony/calls/call_detail.html",
                  {"call": call, "sees_all": is_supervisor(request.user)})


urlpatterns = [
    path("calls/", call_list, name="call_list"),
    path("calls/export/", call_export, name="call_export"),
    path("calls/<uuid:call_id>/", call_detail, name="call_detail"),
    path("calls/originate/", originate, name="call_originate"),
    path("calls/hangup/", hangup, name="call_hangup"),
    path("calls/transfer/", transfer, name="call_transfer"),
    path("calls/current/", current, name="call_current"),
    path("calls/<uuid:call_id>/status/", status, name="call_status"),
]
