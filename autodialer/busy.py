"""A database that is busy is a message, not a hung worker or a 500.

The settings bound every wait on the database (DB_LOCK_TIMEOUT, DB_STATEMENT_TIMEOUT): a row
or table another connection holds (Asterisk, a migration, a long report) makes the statement
fail after a few seconds instead of waiting until gunicorn kills the worker. This middleware
turns that failure into HTTP 503 and "the database is busy, nothing was changed, try again";
the write paths run in transactions, so nothing half-done is left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from autodialer.input import is_api_request

logger = logging.getLogger("autodialer.database")

BUSY_MESSAGE = ("The database is busy (another process holds what this needed); nothing was "
                "changed. Try again in a moment.")
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout).
_PG_STATES = {"55P03", "57014"}
# MariaDB/MySQL: lock wait timeout, max_statement_time exceeded, MySQL's max_execution_time,
# metadata lock wait (lock_wait_timeout) is also 1205.
_MYSQL_CODES = {1205, 1969, 3024}


def is_database_timeout(exception: BaseException) -> bool:
    if not isinstance(exception, DatabaseError):
        return False
    cause = exception.__cause__
    state = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if state in _PG_STATES:
        return True
    args = getattr(cause, "args", None) or exception.args
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return True
    return "database is locked" in str(exception)  # SQLite's busy timeout


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_database_timeout(exception):
            return None
        logger.warning("database busy on %s %s: %s", request.method, request.path,
                       str(exception).strip()[:200])
        if is_api_request(request):
            response = JsonResponse({"code": "database_busy", "error": BUSY_MESSAGE},
                                    status=503)
        else:
            response = render(request, "503.html", {"message": BUSY_MESSAGE}, status=503)
        response["Retry-After"] = "5"
        return response
