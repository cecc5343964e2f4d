"""The decision of `lead_callable` for a whole campaign at once, in a fixed number of queries:
the dialer's candidate queryset, and the campaign page's "dialable now / blocked and why".
"""

from __future__ import annotations

import datetime
from collections import Counter

from django.db.models import BooleanField as BooleanOutput
from django.db.models import Case, Count, F, Q, QuerySet, When

from telephony.calling.rules import RECENT_WINDOW, Reason, local_time, time_reason, window_of


def _campaign_leads(campaign) -> QuerySet:
    from telephony.models import Lead

    return Lead.objects.filter(campaign=campaign)


def _open_zones(campaign, zones: list[str], at: datetime.datetime) -> list[str]:
    window = window_of(campaign.calling_rules)
    return [name for name in zones
            if window.open_at(local_time(name, at, campaign.default_timezone)) is None]


def dialable_leads(campaign, at: datetime.datetime) -> QuerySet:
    """Leads `lead_callable` allows at `at`, except the rolling 24-hour call limit, which the
    claim (services.leads.leads_claim) checks lead by lead. Annotated with on_dnc and
    list_active, so lead_callable on them runs no query."""
    from telephony.models import Lead

    claimable = _campaign_leads(campaign).filter(state__in=Lead.CLAIMABLE_STATES,
                                                lead_list__is_active=True)
    zones = list(claimable.order_by().values_list("timezone", flat=True).distinct())
    window = window_of(campaign.calling_rules)
    in_window = Q(pk__in=[])
    for name in _open_zones(campaign, zones, at):
        local_date = local_time(name, at, campaign.default_timezone).date()
        in_window |= Q(timezone=name) & ~Q(day_attempts_date=local_date,
                                           day_attempts__gte=campaign.max_attempts_per_day)
    leads = (claimable.filter(in_window, attempts__lt=campaign.max_attempts)
             .filter(Q(next_eligible_at__isnull=True) | Q(next_eligible_at__lte=at)))
    if window.amd_redial_block_hours:
        blocked_since = at - datetime.timedelta(hours=window.amd_redial_block_hours)
        leads = leads.exclude(last_machine_drop_at__gt=blocked_since)
    return (leads.with_campaign_dnc(campaign.pk).filter(on_dnc=False)
            .annotate(list_active=F("lead_list__is_active")).select_related("campaign"))


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=True), default=False, output_field=BooleanOutput())


def lead_counts(campaign, at: datetime.datetime) -> dict[str, int]:
    """{Reason value: number of leads} for every lead of the campaign, by the same rules and
    order as lead_callable. Three queries whatever the number of leads: the rules' blocked
    dates, one GROUP BY over the leads, and the attempt times of the leads called in the last
    24 hours when the rules limit those."""
    from telephony.models import Lead

    window = window_of(campaign.calling_rules)
    recent_limit = window.max_attempts_per_24h
    block = (at - datetime.timedelta(hours=window.amd_redial_block_hours)
             if window.amd_redial_block_hours else None)
    rows = (_campaign_leads(campaign).with_campaign_dnc(campaign.pk).order_by()
            .annotate(exhausted=_flag(Q(attempts__gte=campaign.max_attempts)),
                      waiting=_flag(Q(next_eligible_at__gt=at)),
                      day_full=_flag(Q(day_attempts__gte=campaign.max_attempts_per_day)),
                      machine=_flag(Q(last_machine_drop_at__gt=block) if block
                                    else Q(pk__in=[])),
                      recent=_flag(Q(last_attempt_at__gt=at - RECENT_WINDOW) if recent_limit
                                   else Q(pk__in=[])),
                      list_active=F("lead_list__is_active"))
            .values("state", "on_dnc", "list_active", "exhausted", "waiting", "day_full",
                    "day_attempts_date", "machine", "recent", "timezone")
            .annotate(n=Count("pk")))
    counts: Counter[str] = Counter()
    zone_state: dict[str, tuple[Reason | None, datetime.date]] = {}
    for row in rows:
        reason = _reason(row, Lead)
        if reason is None:
            name = row["timezone"]
            if name not in zone_state:
                local = local_time(name, at, campaign.default_timezone)
                zone_state[name] = (window.open_at(local), local.date())
            closed, local_date = zone_state[name]
            if row["day_full"] and row["day_attempts_date"] == local_date:
                reason = Reason.DAILY_LIMIT
            elif row["recent"]:
                continue  # counted lead by lead below
            elif row["machine"]:
                reason = Reason.MACHINE_BLOCK
            else:
                reason = closed or Reason.DIALABLE
        counts[reason] += row["n"]
    if recent_limit:
        _count_recent(campaign, at, counts)
    return {reason.value: counts.get(reason, 0) for reason in Reason}


def _reason(row: dict, Lead) -> Reason | None:
    state = row["state"]
    if state == Lead.State.INVALID:
        return Reason.INVALID
    if state == Lead.State.DNC or row["on_dnc"]:
        return Reason.DNC
    if state == Lead.State.FINAL:
        return Reason.FINAL
    if not row["list_active"]:
        return Reason.LIST_INACTIVE
    if state == Lead.State.EXHAUSTED:
        return Reason.EXHAUSTED
    if state == Lead.State.IN_PROGRESS:
        return Reason.IN_PROGRESS
    if row["exhausted"]:
        return Reason.EXHAUSTED
    if row["waiting"]:
        return Reason.CALLBACK if state == Lead.State.CALLBACK else Reason.RETRY_WAIT
    return None


def _count_recent(campaign, at, counts) -> None:
    """Leads that reached the time checks and were called in the last 24 hours: their call
    times decide, so they are read (one query) and decided one by one like lead_callable."""
    from telephony.models import Lead

    leads = (_campaign_leads(campaign).with_campaign_dnc(campaign.pk)
             .filter(last_attempt_at__gt=at - RECENT_WINDOW, state__in=Lead.CLAIMABLE_STATES,
                     on_dnc=False, lead_list__is_active=True,
                     attempts__lt=campaign.max_attempts)
             .exclude(next_eligible_at__gt=at)
             .values_list("timezone", "day_attempts_date", "day_attempts", "recent_attempts",
                          "last_machine_drop_at"))
    for name, day_date, day_attempts, stamps, machine_at in leads:
        counts[time_reason(campaign, at, timezone_name=name, day_attempts_date=day_date,
                           day_attempts=day_attempts, recent_attempts=stamps,
                           last_machine_drop_at=machine_at)[1]] += 1
