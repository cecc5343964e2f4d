"""The compliance ledger of a campaign as CSV, for audits: every dial attempt, oldest first,
streamed (a year of a busy campaign is millions of rows), with a date range."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator

from telephony.csvcells import defuse
from telephony.models import DialAttempt

COLUMNS = ["attempt_id", "created_at", "phone_number", "lead_id", "status", "abandoned",
           "answered_at", "connected_at", "ended_at", "ring_seconds", "talk_seconds",
           "wrap_seconds", "agent", "disposition", "amd_result", "amd_cause",
           "amd_at", "carrier", "server_id",
           "hangup_cause", "hangup_cause_text", "error", "sealed_at", "launched_by"]


def _number(value: str) -> str:
    """A number as dialled: "+12125550100" is data, not a formula (only digits follow the
    "+"), so it stays as it is for the auditor's tools; anything else is made safe."""
    return value if value[1:].isdigit() and value[:1] in "+0123456789" else defuse(value)


def _when(value: datetime.datetime | None) -> str:
    return value.isoformat() if value else ""


def _seconds(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else ""


def ledger_export(*, campaign_id: int, since: datetime.datetime | None = None,
                  until: datetime.datetime | None = None) -> Iterator[str]:
    """CSV lines: the header, then one line per attempt (text cells spreadsheet-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(row: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(COLUMNS)
    attempts = DialAttempt.objects.filter(campaign_id=campaign_id)
    if since:
        attempts = attempts.filter(created_at__gte=since)
    if until:
        attempts = attempts.filter(created_at__lt=until)
    for a in attempts.order_by("created_at", "id").iterator(chunk_size=2000):
        yield line([
            str(a.pk), _when(a.created_at), _number(a.phone_number), a.lead_id or "", a.status,
            "yes" if a.abandoned else "no", _when(a.answered_at), _when(a.connected_at),
            _when(a.ended_at), _seconds(a.ring_seconds), _seconds(a.talk_seconds),
            _seconds(a.wrap_seconds), defuse(a.agent_username), defuse(a.disposition),
            defuse(a.amd_result), defuse(a.amd_cause), _when(a.amd_at),
            defuse(a.carrier_name), a.server_id or "",
            a.hangup_cause if a.hangup_cause is not None else "",
            defuse(a.hangup_cause_text), defuse(a.error), _when(a.closed_at),
            # "preview" (the agent pressed Dial) or the run_dialer that launched it
            defuse(a.worker)])
