"""The live numbers of a campaign for its supervisors: agents by state, calls in flight, the
abandon rate (its compliance window, and today), today's outcomes and the wrap-ups that ended
without a disposition. Read-only, from the agent sessions and the ledger, in a fixed number of
queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from telephony.dialer.state import compliance_window_start, pacing_state_for
from telephony.models import AgentSession, DialAttempt, Disposition


@dataclass(frozen=True)
class CampaignLive:
    agents: dict[str, int]  # state value -> live sessions in it
    ringing: int
    waiting: int
    abandon_rate_window: float
    answered_window: int
    abandon_rate_today: float
    answered_today: int
    abandon_target: float
    outcomes_today: dict[str, int]  # DialAttempt status -> count
    # Connected calls whose wrap-up ended without the agent's disposition (NODISPO): agents
    # pressing Ready or Pause, the wrap-up limit, phones hung up. Today and the window.
    undisposed_today: int = 0
    undisposed_window: int = 0

    @property
    def near_cap(self) -> bool:
        """The predictive dialer falls back to progressive from 80 % of the target."""
        return self.answered_window > 0 and self.abandon_rate_window >= 0.8 * self.abandon_target


def campaign_live(campaign, *, now: datetime | None = None) -> CampaignLive:
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    window_start = compliance_window_start(campaign, now)
    state = pacing_state_for(campaign, now=now, since=window_start)
    today_state = pacing_state_for(campaign, now=now, since=today).campaign
    agents = {value: 0 for value, _ in AgentSession.State.choices}
    for row in (AgentSession.objects.filter(campaign=campaign, ended_at__isnull=True)
                .values("state").annotate(n=Count("pk"))):
        agents[row["state"]] = row["n"]
    outcomes = {row["status"]: row["n"] for row in DialAttempt.objects.filter(
        campaign_id=campaign.pk, created_at__gte=today).values("status").annotate(n=Count("pk"))}
    # By when the wrap-up ended (the row was sealed), as the pacing state counts wrap-ups.
    undisposed = DialAttempt.objects.filter(
        campaign_id=campaign.pk, closed_at__gte=min(today, window_start),
        disposition=Disposition.NO_DISPOSITION).aggregate(
        today=Count("pk", filter=Q(closed_at__gte=today)),
        window=Count("pk", filter=Q(closed_at__gte=window_start)))
    return CampaignLive(
        agents=agents, ringing=state.calls_ringing, waiting=state.calls_waiting,
        abandon_rate_window=state.campaign.abandon_rate,
        answered_window=state.campaign.answered,
        abandon_rate_today=today_state.abandon_rate, answered_today=today_state.answered,
        abandon_target=state.abandon_target, outcomes_today=outcomes,
        undisposed_today=undisposed["today"], undisposed_window=undisposed["window"])
