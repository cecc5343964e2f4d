"""The call log as CSV, for supervisors' reports and spreadsheets."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from django.utils import timezone

from telephony import csvcells
from telephony.models import Call

CALL_LOG_COLUMNS = ["call_id", "started", "number", "direction", "agent", "extension",
                    "campaign", "status", "answered", "ended", "duration_s", "hangup_cause",
                    "hangup_reason", "transferred_to", "error"]


def _when(value) -> str:
    # The call centre's local time (TIME_ZONE), with its offset, so a spreadsheet sorts it.
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def call_log_csv(calls: Iterable[Call]) -> Iterator[str]:
    """CSV text, a line at a time, so a month of calls streams instead of filling memory."""
    buffer = io.StringIO()
    writer = csvcells.writer(buffer, lineterminator="\r\n")  # every cell defused

    def line(row: list) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CALL_LOG_COLUMNS)
    for call in calls:
        yield line([
            str(call.pk), _when(call.created_at), call.number, call.direction,
            call.user.username if call.user else "",
            call.phone.extension if call.phone else "",
            call.campaign.name if call.campaign else "",
            call.status, _when(call.answered_at), _when(call.ended_at),
            "" if call.duration is None else call.duration,
            "" if call.hangup_cause is None else call.hangup_cause,
            call.hangup_cause_text, call.transferred_to, call.error_message,
        ])
