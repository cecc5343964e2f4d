"""Why a campaign's dialer is, or is not, placing calls, in words a supervisor can act on.

VICIdial's and OMniLeads' users ask the same thing in their trackers: "the campaign is active
and nothing dials, and nothing says why". Each finding here is read from what the dialer
itself reads (the campaign, its carriers, the agent sessions, the leads' states, the workers'
heartbeats, the ledger's last calls), so the page says what the worker sees. Read-only, a
fixed number of queries whatever the number of agents or leads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from telephony.calling.rules import Reason
from telephony.calling.selection import lead_counts
from telephony.dialer.heartbeat import workers_alive
from telephony.models import AgentSession, AsteriskServer, Campaign, DialAttempt

State = AgentSession.State
Status = DialAttempt.Status
AUTO_MODES = ("progressive", "predictive")
# The carrier rejecting every call shows as a run of failed attempts: this many in a row,
# ended in the last FAILING_MINUTES, is reported with their most common reason.
FAILING_RUN = 5
FAILING_MINUTES = 10


@dataclass(frozen=True)
class Finding:
    level: str  # "success", "info", "warning", "danger": Bootstrap's, as docs/ui.md uses them
    text: str


@dataclass(frozen=True)
class DialerHealth:
    findings: list[Finding]
    dialable: int
    blocked: list[tuple[str, int]]  # (reason label, leads), largest first
    leads_total: int

    @property
    def dialling(self) -> bool:
        return all(f.level in ("success", "info") for f in self.findings)


def dialer_health(campaign: Campaign, *, now: datetime | None = None) -> DialerHealth:
    now = now or timezone.now()
    counts = lead_counts(campaign, now)
    dialable = counts.get(Reason.DIALABLE, 0)
    blocked = sorted(((Reason(code).label, n) for code, n in counts.items()
                      if code != Reason.DIALABLE and n), key=lambda item: -item[1])
    findings = _findings(campaign, now, dialable, blocked)
    return DialerHealth(findings=findings, dialable=dialable, blocked=blocked,
                        leads_total=sum(counts.values()))


def _findings(campaign: Campaign, now: datetime, dialable: int,
              blocked: list[tuple[str, int]]) -> list[Finding]:
    out: list[Finding] = []
    if campaign.status != Campaign.Status.RUNNING:
        out.append(Finding("info", f"The campaign is {campaign.get_status_display().lower()}: "
                                   f"no calls are launched until it is started."))
    if campaign.dial_mode == Campaign.DialMode.MANUAL:
        out.append(Finding("info", "Manual campaign: the agents dial; the dialer launches "
                                   "nothing."))
        return out
    auto = campaign.dial_mode in AUTO_MODES
    workers = workers_alive(now)
    if not workers:
        out.append(Finding("danger", "No dialer worker is running (manage.py run_dialer): "
                                     "no call is launched and no answer is handled."))
    if campaign.carrier is None or not campaign.carrier.is_active:
        out.append(Finding("danger", "The campaign has no active carrier: nothing can be "
                                     "dialled."))
    out.extend(_agents(campaign, workers))
    if dialable == 0:
        why = ", ".join(f"{label.lower()}: {n}" for label, n in blocked[:3])
        out.append(Finding("warning", "No lead is dialable now" + (f" ({why})." if why
                                                                   else ": the lists are empty.")))
    out.extend(_failing(campaign, now))
    if not any(f.level in ("warning", "danger") for f in out) and \
            campaign.status == Campaign.Status.RUNNING:
        out.append(Finding("success", "Dialling: agents in session, leads to dial, a worker "
                                 "running." if auto else
                                 "Ready: agents in session get the next lead on screen."))
    return out


def _agents(campaign: Campaign, workers) -> list[Finding]:
    live = (AgentSession.objects.filter(campaign=campaign, ended_at__isnull=True,
                                        connected_at__isnull=False)
            .values("server_id", "state").annotate(n=Count("pk")))
    per_server: dict[int, Counter] = {}
    for row in live:
        per_server.setdefault(row["server_id"], Counter())[row["state"]] = row["n"]
    if not per_server:
        return [Finding("warning", "No agent is in session on this campaign.")]
    out = []
    total = Counter()
    for states in per_server.values():
        total.update(states)
    if total[State.PAUSED] == sum(total.values()):
        out.append(Finding("warning", f"All {total[State.PAUSED]} agents in session are "
                                      f"paused: no new call starts until one is ready."))
    names = dict(AsteriskServer.objects.filter(pk__in=per_server).values_list("pk", "name"))
    for server_id, states in sorted(per_server.items()):
        agents = sum(states.values())
        name = names.get(server_id, f"#{server_id}")
        if campaign.carrier is not None and campaign.carrier_on(server_id) is None:
            out.append(Finding("danger", f"{agents} agent(s) on server {name}, where the "
                                         f"campaign has no active carrier: they get no calls."))
        elif workers and not any(w.server_up(server_id) for w in workers):
            out.append(Finding("danger", f"Server {name}: no dialer worker has its ARI "
                                         f"events (Asterisk down, or ARI refusing): its "
                                         f"{agents} agent(s) get no calls."))
    return out


def _failing(campaign: Campaign, now: datetime) -> list[Finding]:
    recent = list(DialAttempt.objects.filter(
        campaign_id=campaign.pk, ended_at__gte=now - timedelta(minutes=FAILING_MINUTES))
        .order_by("-ended_at").values("status", "error", "hangup_cause",
                                      "hangup_cause_text")[:FAILING_RUN])
    if len(recent) < FAILING_RUN or any(r["status"] != Status.FAILED for r in recent):
        return []
    reasons = Counter(r["error"] or (f"{r['hangup_cause_text']} (cause {r['hangup_cause']})"
                                     if r["hangup_cause"] is not None else "no reason given")
                      for r in recent)
    reason, _ = reasons.most_common(1)[0]
    return [Finding("danger", f"The last {FAILING_RUN} calls all failed ({reason}): is the "
                              f"carrier rejecting them?")]
