"""One place that normalises what a request carries before any view reads it.

Databases refuse some text outright (PostgreSQL: a NUL byte; every driver: a lone surrogate that
cannot be encoded) and Python's `str.isdigit()` accepts digits `int()` refuses (`²`), so a value
that slips past a view's own checks used to end in a 500. Here:

- `InputMiddleware` refuses, with a 400 before any view runs, a query parameter (name or value)
  holding a control character or a lone surrogate, and a form field holding a NUL or a lone
  surrogate (the forms refuse other control characters next to their field). API paths get
  JSON.
- `query_int` / `query_date` read one query parameter strictly: ASCII digits only, in range.
- `json_object` reads a JSON body: an object, of application/json, not nested absurdly deep,
  with no lone surrogate in any string; anything else is `BadInput`. (Control characters in a
  JSON string reach the field's own validator, which refuses them with that field's code.)
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.shortcuts import render

# C0 controls, DEL, C1 controls (U+0085 among them), the Unicode line and paragraph separators,
# and lone surrogates (json.loads and Python's own decoders can produce them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Form fields: only what breaks a database before any form can answer (PostgreSQL refuses NUL;
# the login throttle writes the username before the form runs). Other control characters reach
# the form, whose field names what is wrong in place.
_FORM_CONTROL = re.compile(r"[\x00\ud800-\udfff]")
_ASCII_INT = re.compile(r"-?[0-9]{1,18}\Z")
# The dates a call centre's filters can mean; 9999-12-31 plus one day does not exist.
DATE_MIN = datetime.date(2000, 1, 1)
DATE_MAX = datetime.date(2999, 12, 31)
MAX_JSON_DEPTH = 20


class BadInput(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def text_problem(value: str, *, form: bool = False) -> str | None:
    """Why a piece of request text is refused, or None."""
    match = (_FORM_CONTROL if form else _CONTROL).search(value)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "contains a broken character (a lone UTF-16 surrogate)"
    return f"contains the control character U+{ord(char):04X}"


def query_int(request: HttpRequest, name: str, *, minimum: int = 0,
              maximum: int = 2**63 - 1) -> int | None:
    """An optional integer query parameter: None when absent or empty, BadInput when it is not
    ASCII digits within [minimum, maximum]."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not _ASCII_INT.match(raw) or not minimum <= int(raw) <= maximum:
        raise BadInput(name, f"'{name}' must be a whole number from {minimum} to {maximum}.")
    return int(raw)


def date_in_range(value: datetime.date, field: str) -> datetime.date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise BadInput(field, f"'{field}' must be a date from {DATE_MIN} to {DATE_MAX}.")
    return value


def query_date(request: HttpRequest, name: str) -> datetime.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.date.fromisoformat(raw)
    except ValueError:
        raise BadInput(name, f"'{name}' must be a date written YYYY-MM-DD.") from None
    return date_in_range(value, name)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _check_json(value: Any, depth: int = 0) -> None:
    # A lone surrogate ("\ud800" is valid JSON) cannot be encoded by any database driver, so
    # it is refused here; other control characters are left to each field's own validator,
    # which refuses them with that field's error code (invalid_number, invalid_target, ...).
    if depth > MAX_JSON_DEPTH:
        raise BadInput("body", "The JSON body is nested too deeply.")
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise BadInput("body", "A string in the JSON body contains a broken character "
                                   "(a lone UTF-16 surrogate).")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body ({} when empty), or BadInput."""
    try:
        raw = request.body
    except (RawPostDataException, RequestDataTooBig):
        raise BadInput("body", "The body must be a JSON object sent as "
                               "application/json.") from None
    if not raw.strip():
        return {}
    if request.content_type != "application/json":
        raise BadInput("body", "The body must be a JSON object sent as application/json.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("body", "The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise BadInput("body", "The body must be a JSON object.")
    _check_json(data)
    return data


_API_ENDS = ("originate", "hangup", "transfer", "current", "status", "registration",
             "recent-calls")


def is_api_path(path: str) -> bool:
    """The JSON API of docs/api.md (its errors are JSON too, 404 and 405 included), told by its
    address, so a path that matches no route is answered in JSON as well."""
    return path.startswith(("/telephony/calls/", "/telephony/agent/")) and (
        path.rstrip("/").rsplit("/", 1)[-1] in _API_ENDS)


def is_api_request(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None and getattr(match.func, "is_api", False):
        return True
    return is_api_path(request.path)


def bad_input_response(request: HttpRequest, error: BadInput) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"code": "invalid_input", "error": error.message,
                             "field": error.field}, status=400)
    return render(request, "400.html", {"message": error.message}, status=400)


def _check_request(request: HttpRequest) -> None:
    if problem := text_problem(request.path):
        raise BadInput("path", f"The address {problem}.")
    for name, values in request.GET.lists():
        for text in (name, *values):
            if problem := text_problem(text):
                raise BadInput(name, f"The query parameter '{name[:40]!r}' {problem}.")
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                             "multipart/form-data"):
        try:
            fields = request.POST.lists()
        except MultiPartParserError:
            raise BadInput("body", "The form data is malformed (multipart without a valid "
                                   "boundary).") from None
        for name, values in fields:
            for text in (name, *values):
                if problem := text_problem(text, form=True):
                    raise BadInput(name, f"The field '{name[:40]}' {problem}.")


class InputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            _check_request(request)
        except BadInput as error:
            return bad_input_response(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        # Views read parameters with query_int/query_date/json_object and let BadInput rise.
        if isinstance(exception, BadInput):
            return bad_input_response(request, exception)
        return None
