"""The supervisors' live board: a page, and the fragment of it the page re-fetches every few
seconds (static/js/live-board.js), so the board stays server-rendered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache

from telephony.services.live_board import live_board
from telephony.views.agent import duration_text
from users.roles import ADMIN, SUPERVISOR, role_required

REFRESH_SECONDS = 3


def _context(board) -> dict:
    rows = [{"row": row, "call_time": duration_text(row.call_seconds(board.now)),
             "talk_today": duration_text(row.talk_seconds_today)} for row in board.rows]
    return {"board": board, "rows": rows, "talk_today": duration_text(board.talk_seconds_today),
            "refresh_seconds": REFRESH_SECONDS}


@role_required(ADMIN, SUPERVISOR)
def live_board_page(request: HttpRequest) -> HttpResponse:
    return render(request, "telephony/live/board.html", _context(live_board()))


@never_cache
@role_required(ADMIN, SUPERVISOR)
def live_board_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "telephony/live/_board.html", _context(live_board()))


urlpatterns = [
    path("live/", live_board_page, name="live_board"),
    path("live/board/", live_board_fragment, name="live_board_fragment"),
]
