"""`lead_callable(lead, at) -> (bool, reason)`: the one decision whether a lead may be dialled.

The dialer calls it before every call and the campaign page counts its reasons, so both agree.
Everything is evaluated in the lead's own time zone (a lead in Los Angeles is called 08:00-21:00
Los Angeles time, across both daylight-saving changes). It reads only the lead, its campaign,
the campaign's rules (None: `DEFAULT_RULES`) and whether the number is on a DNC list: that is
one query unless the lead comes annotated with `on_dnc` (`Lead.objects.with_dnc()`), and
whether its list is active (`list_active`, or `lead.lead_list`).
Whether the campaign itself is running is the dialer's question, not the lead's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from telephony.calling.presets import US_FEDERAL
from telephony.calling.zones import is_known_zone, zone

RECENT_WINDOW = datetime.timedelta(hours=24)


class Reason(models.TextChoices):
    """Why a lead can or cannot be dialled now, in the order they are checked."""

    DIALABLE = "dialable", "Dialable now"
    INVALID = "invalid", "Invalid number"
    DNC = "dnc", "On a do-not-call list"
    LIST_INACTIVE = "list_inactive", "Its list is switched off"
    FINAL = "final", "Finished (final disposition)"
    EXHAUSTED = "exhausted", "Attempts exhausted"
    IN_PROGRESS = "in_progress", "Being called now"
    CALLBACK = "callback", "Callback scheduled for later"
    RETRY_WAIT = "retry_wait", "Waiting for its retry time"
    DAILY_LIMIT = "daily_limit", "Daily attempts used up"
    RECENT_LIMIT = "recent_limit", "Too many calls in the last 24 hours"
    MACHINE_BLOCK = "machine_block", "Answering-machine drop, redial blocked"
    BLOCKED_DATE = "blocked_date", "Blocked date in the lead's zone"
    OUTSIDE_WINDOW = "outside_window", "Outside the calling window now"


@dataclass(frozen=True)
class Window:
    """The parts of a CallingRules row the decision needs (so defaults need no row)."""

    weekdays: str
    start_time: datetime.time
    end_time: datetime.time
    max_attempts_per_24h: int | None = None
    amd_redial_block_hours: int = 0
    blocked_dates: frozenset[datetime.date] = field(default_factory=frozenset)

    def open_at(self, local: datetime.datetime) -> Reason | None:
        """None when a call may start at this local time, else the reason it may not."""
        if local.date() in self.blocked_dates:
            return Reason.BLOCKED_DATE
        if str(local.isoweekday()) not in self.weekdays:
            return Reason.OUTSIDE_WINDOW
        if not self.start_time <= local.time() < self.end_time:
            return Reason.OUTSIDE_WINDOW
        return None


DEFAULT_RULES = Window(weekdays=US_FEDERAL.weekdays, start_time=US_FEDERAL.start_time,
                       end_time=US_FEDERAL.end_time)


def window_of(rules: Any) -> Window:
    """The Window of a CallingRules row (its blocked dates read once and cached on it)."""
    if rules is None:
        return DEFAULT_RULES
    cached = getattr(rules, "_window", None)
    if cached is None:
        dates = frozenset(rules.blocked_dates.values_list("date", flat=True)) if rules.pk \
            else frozenset()
        cached = Window(weekdays=rules.weekdays, start_time=rules.start_time,
                        end_time=rules.end_time, max_attempts_per_24h=rules.max_attempts_per_24h,
                        amd_redial_block_hours=rules.amd_redial_block_hours, blocked_dates=dates)
        rules._window = cached
    return cached


def local_time(timezone_name: str, at: datetime.datetime,
               fallback: str = "UTC") -> datetime.datetime:
    return at.astimezone(zone(timezone_name if is_known_zone(timezone_name) else fallback))


def _on_dnc(lead: Any) -> bool:
    annotated = getattr(lead, "on_dnc", None)
    if annotated is not None:
        return bool(annotated)
    from telephony.models import DncEntry

    return DncEntry.objects.filter(number=lead.phone_number).filter(
        models.Q(campaign__isnull=True) | models.Q(campaign_id=lead.campaign_id)).exists()


def _list_active(lead: Any) -> bool:
    annotated = getattr(lead, "list_active", None)
    return bool(annotated) if annotated is not None else lead.lead_list.is_active


def lead_callable(lead: Any, at: datetime.datetime) -> tuple[bool, Reason]:
    """(True, DIALABLE) when `lead` may be dialled at the aware datetime `at`, else
    (False, the first reason it may not)."""
    from telephony.models import Lead

    state = lead.state
    if state == Lead.State.INVALID:
        return False, Reason.INVALID
    if state == Lead.State.DNC or _on_dnc(lead):
        return False, Reason.DNC
    if state == Lead.State.FINAL:
        return False, Reason.FINAL
    if not _list_active(lead):
        return False, Reason.LIST_INACTIVE
    if state == Lead.State.EXHAUSTED:
        return False, Reason.EXHAUSTED
    if state == Lead.State.IN_PROGRESS:
        return False, Reason.IN_PROGRESS
    campaign = lead.campaign
    if lead.attempts >= campaign.max_attempts:
        return False, Reason.EXHAUSTED
    if lead.next_eligible_at is not None and lead.next_eligible_at > at:
        return False, Reason.CALLBACK if state == Lead.State.CALLBACK else Reason.RETRY_WAIT
    return time_reason(campaign, at, timezone_name=lead.timezone,
                       day_attempts_date=lead.day_attempts_date, day_attempts=lead.day_attempts,
                       recent_attempts=lead.recent_attempts,
                       last_machine_drop_at=lead.last_machine_drop_at)


def time_reason(campaign: Any, at: datetime.datetime, *, timezone_name: str,
                day_attempts_date: datetime.date | None, day_attempts: int,
                recent_attempts: list[int] | None,
                last_machine_drop_at: datetime.datetime | None) -> tuple[bool, Reason]:
    """The checks after the lead's state: attempt limits over time, then the window."""
    window = window_of(campaign.calling_rules)
    local = local_time(timezone_name, at, campaign.default_timezone)
    if day_attempts_date == local.date() and day_attempts >= campaign.max_attempts_per_day:
        return False, Reason.DAILY_LIMIT
    if window.max_attempts_per_24h is not None:
        since = (at - RECENT_WINDOW).timestamp()
        if sum(1 for stamp in recent_attempts or () if stamp > since) \
                >= window.max_attempts_per_24h:
            return False, Reason.RECENT_LIMIT
    if window.amd_redial_block_hours and last_machine_drop_at is not None:
        if at - last_machine_drop_at < datetime.timedelta(hours=window.amd_redial_block_hours):
            return False, Reason.MACHINE_BLOCK
    closed = window.open_at(local)
    if closed is not None:
        return False, closed
    return True, Reason.DIALABLE
