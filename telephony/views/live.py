"""The supervisors' live board: a page, and the fragment of it the page re-fetches every few
seconds (static/js/live-fragment.js), so the board stays server-rendered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache

from telephony.services.live_board import AgentRow, live_board
from telephony.views.agent import duration_text
from users.roles import ADMIN, SUPERVISOR, role_required
from users.templatetags.ui import status_colour

REFRESH_SECONDS = 3


def _row(row: AgentRow, now) -> dict:
    """Plain values: the board has a row per agent and is rendered every few seconds, so the
    template only prints (no lookups, filters or {% url %} per row)."""
    call = row.call
    return {
        "username": row.user.username,
        "name": row.user.get_full_name() or row.user.username,
        "extension": row.extension or "—",
        "user_agent": row.registration.user_agent if row.registration.registered else "",
        "state": row.state, "label": row.state_label, "badge": status_colour(row.state),
        "number": call.number if call else "",
        "call_url": reverse("telephony:call_detail", args=[call.pk]) if call else "",
        "campaign": call.campaign.name if call and call.campaign else "—",
        "call_time": duration_text(row.call_seconds(now)) or "—",
        "calls_today": row.calls_today, "answered_today": row.answered_today,
        "talk_today": duration_text(row.talk_seconds_today) or "0:00",
    }


def _context(board) -> dict:
    return {"board": board, "counts": board.counts,
            "registration_problem": board.registration_problem,
            "rows": [_row(row, board.now) for row in board.rows],
            "talk_today": duration_text(board.talk_seconds_today) or "0:00",
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
