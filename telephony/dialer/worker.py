"""The dialer worker's single step: for each running campaign in progressive or predictive
mode, ask its pacing policy how many calls to launch, claim that many leads, write each
attempt row, then originate the customer leg through ARI with the row's id as channel id.

Order matters for crash safety: the lead is claimed (IN_PROGRESS, claimed_by = this worker)
and the attempt row is committed before the originate, so a worker killed at any point leaves
either a claimed lead with no attempt (given back by `leads_unstick`) or an attempt row whose
channel Asterisk has or not (`dialer_reconcile`). Asterisk refuses a second channel with the
same id, so nothing is ever dialled twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from telephony.asterisk.ari import AriClient, AriError
from telephony.dialer.pacing import policy_for
from telephony.dialer.state import pacing_state_for
from telephony.models import AsteriskServer, Campaign, DialAttempt
from telephony.realtime.carriers import carrier_object_id

Status = DialAttempt.Status
# Only these are launched by the worker: preview calls are the agent's (dialer/preview.py).
AUTO_MODES = ("progressive", "predictive")
# claimed_by of a lead reserved for an agent in preview mode: PREVIEW_CLAIM + session id.
PREVIEW_CLAIM = "preview-"


@dataclass
class TickReport:
    launched: int = 0
    failed: int = 0
    per_campaign: dict[int, str] = field(default_factory=dict)  # why a campaign did not dial


def carrier_endpoint(carrier, number: str) -> str:
    """The PJSIP dial string of `number` through `carrier`, as its outbound dialplan does."""
    return f"PJSIP/{carrier.dial_number(number)}@{carrier_object_id(carrier.slug)}"


def leads_claim_locked(*, campaign: Campaign, at: datetime, limit: int,
                       claimed_by: str) -> list:
    """Up to `limit` dialable leads, claimed so two workers never get the same one.

    PostgreSQL and MariaDB 10.6+: the candidates are locked with SELECT ... FOR UPDATE SKIP
    LOCKED (rows another worker holds are passed over, not waited for) and moved to
    IN_PROGRESS in one UPDATE. SQLite has no row locks (one writer at a time): the campaigns
    module's conditional UPDATE per lead does the same there.
    """
    from telephony.calling.rules import lead_callable
    from telephony.calling.selection import dialable_leads
    from telephony.models import Lead
    from telephony.services.leads import leads_claim

    if limit <= 0:
        return []
    if not connection.features.has_select_for_update_skip_locked:
        return leads_claim(campaign=campaign, at=at, limit=limit, claimed_by=claimed_by)
    with transaction.atomic():
        candidates = list(dialable_leads(campaign, at).order_by("next_eligible_at", "pk")
                          .values_list("pk", flat=True)[:limit * 2])
        # No join in the locking query: FOR UPDATE would lock the campaign row as well, and
        # SKIP LOCKED would then hide every lead of the campaign from the other workers.
        locked = list(Lead.objects.select_for_update(skip_locked=True)
                      .filter(pk__in=candidates, state__in=Lead.CLAIMABLE_STATES,
                              claimed_by="").order_by("pk")[:limit * 2])
        chosen = [lead for lead in locked if lead_callable(lead, at)[0]][:limit]
        Lead.objects.filter(pk__in=[lead.pk for lead in chosen]).update(
            state=Lead.State.IN_PROGRESS, claimed_by=claimed_by[:64], claimed_at=at)
    for lead in chosen:
        lead.state, lead.claimed_by, lead.claimed_at = (Lead.State.IN_PROGRESS,
                                                        claimed_by[:64], at)
    return chosen


def dialer_tick(*, worker: str, ari_for: Callable[[AsteriskServer], AriClient],
                now: datetime | None = None,
                server_usable: Callable[[int], bool] | None = None) -> TickReport:
    """One launch step. Each campaign is paced per Asterisk server that has agents of it in
    session: a customer can only be bridged to an agent on the server that carries the call,
    so that server's agents and calls decide how many to launch there, through the campaign's
    carrier on it. `server_usable(server_id)` False (run_dialer: its ARI events are not
    connected, so an answer there would go unseen) skips the server: a server down stops only
    its own agents' calls."""
    now = now or timezone.now()
    report = TickReport()
    campaigns = (Campaign.objects.filter(status=Campaign.Status.RUNNING,
                                         dial_mode__in=AUTO_MODES)
                 .select_related("carrier", "carrier__server"))
    for campaign in campaigns:
        if campaign.carrier is None:
            report.per_campaign[campaign.pk] = "no active carrier"
            continue
        servers = _servers_in_session(campaign)
        if not servers:
            report.per_campaign[campaign.pk] = "no agent in session"
            continue
        reasons = [_tick_server(campaign, server_id, report, worker=worker, ari_for=ari_for,
                                now=now, server_usable=server_usable) for server_id in servers]
        if any(reasons):
            report.per_campaign[campaign.pk] = "; ".join(filter(None, reasons))
    return report


def _servers_in_session(campaign: Campaign) -> list[int]:
    from telephony.models import AgentSession

    return sorted(set(AgentSession.objects.filter(
        campaign=campaign, ended_at__isnull=True, connected_at__isnull=False)
        .values_list("server_id", flat=True)))


def _tick_server(campaign: Campaign, server_id: int, report: TickReport, *, worker: str,
                 ari_for: Callable[[AsteriskServer], AriClient], now: datetime,
                 server_usable: Callable[[int], bool] | None) -> str:
    """Launch the calls `campaign` wants now on one server; the reason it launched none."""
    carrier = campaign.carrier_on(server_id)
    if carrier is None:
        name = AsteriskServer.objects.filter(pk=server_id).values_list("name", flat=True).first()
        return f"no active carrier on server {name}"
    if server_usable is not None and not server_usable(server_id):
        return f"server {carrier.server.name}: its ARI events are not connected"
    state = pacing_state_for(campaign, now=now, server_id=server_id)
    wanted = policy_for(campaign.dial_mode).decide(state)
    if wanted <= 0:
        return "no agent free" if state.agents_ready == 0 else ""
    leads = leads_claim_locked(campaign=campaign, at=now, limit=wanted, claimed_by=worker)
    if not leads:
        return "no dialable lead"
    ari = ari_for(carrier.server)
    for lead in leads:
        if _launch(campaign, carrier, lead, ari, worker=worker, now=now):
            report.launched += 1
        else:
            report.failed += 1
    return ""


def _launch(campaign: Campaign, carrier, lead, ari: AriClient, *, worker: str,
            now: datetime) -> bool:
    attempt = DialAttempt.objects.create(
        id=uuid.uuid4(), campaign_id=campaign.pk, lead_id=lead.pk,
        phone_number=lead.phone_number, server_id=carrier.server_id, carrier_id=carrier.pk,
        carrier_name=carrier.name, worker=worker[:64], created_at=now)
    return attempt_originate(campaign, carrier, attempt, ari, now=now)


def attempt_originate(campaign: Campaign, carrier, attempt: DialAttempt, ari: AriClient, *,
                      now: datetime) -> bool:
    """Originate the customer leg of a committed attempt row into Stasis, with the row's id as
    channel id. False if Asterisk surely did not take it: the row is then sealed failed and
    the lead told."""
    caller_number = carrier.caller_id_number or campaign.caller_id_number
    caller_id = (f"{campaign.caller_id_name} <{caller_number}>" if campaign.caller_id_name
                 else caller_number) or None
    try:
        ari.originate_to_app(endpoint=carrier_endpoint(carrier, attempt.phone_number),
                             channel_id=str(attempt.pk), caller_id=caller_id,
                             timeout=int(campaign.ring_timeout or 25), app_args="customer")
    except AriError as exc:
        if exc.maybe_sent or exc.kind == "timeout":
            return True  # Asterisk may have it: its events, or reconcile, will tell
        with transaction.atomic():
            DialAttempt.objects.open().filter(pk=attempt.pk).update(
                status=Status.FAILED, ended_at=now, ring_seconds=0.0,
                error=exc.message[:255], closed_at=now)
        lead_outcome(lead_id=attempt.lead_id, outcome="failed", at=now)
        return False
    return True


def leads_unstick(*, now: datetime | None = None) -> int:
    """Give back leads a worker claimed and died before dialling: IN_PROGRESS, claimed longer
    than DIALER_UNSTICK_SECONDS ago, and no attempt row written since the claim. (A lead whose
    attempt ended has its claim cleared by lead_attempt_record; one with an attempt still open
    is left to its events or to dialer_reconcile.) Returns how many."""
    from django.conf import settings
    from django.db.models import Exists, OuterRef

    from telephony.models import Lead

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DIALER_UNSTICK_SECONDS)
    dialled = DialAttempt.objects.filter(lead_id=OuterRef("pk"),
                                         created_at__gte=OuterRef("claimed_at"))
    # A preview reservation is an agent's, not a dead worker's: previews_expire has its rules.
    stuck = list(Lead.objects.filter(state=Lead.State.IN_PROGRESS, claimed_at__lt=cutoff)
                 .exclude(claimed_by="").exclude(claimed_by__startswith=PREVIEW_CLAIM)
                 .exclude(Exists(dialled)).values_list("pk", flat=True))
    # The conditions again in the UPDATE: a lead claimed afresh meanwhile is left alone.
    still = Lead.objects.filter(pk__in=stuck, state=Lead.State.IN_PROGRESS,
                                claimed_at__lt=cutoff)
    given_back = {"claimed_by": "", "claimed_at": None}
    released = (still.filter(attempts=0).update(state=Lead.State.NEW, **given_back)
                + still.filter(attempts__gt=0).update(state=Lead.State.RETRY, **given_back))
    return released


def lead_outcome(*, lead_id: int | None, outcome: str, at: datetime) -> None:
    """Tell the lead how its attempt ended (retry later, exhausted, or wait for the
    disposition): the campaigns module decides."""
    from telephony.models import Lead
    from telephony.services.leads import lead_attempt_record

    lead = Lead.objects.filter(pk=lead_id).first() if lead_id else None
    if lead is not None:  # a deleted lead list: the ledger row is all that is left
        lead_attempt_record(lead=lead, outcome=outcome, at=at)


# DialAttempt status at its end -> the campaigns module's call outcome.
LEAD_OUTCOMES = {Status.COMPLETED: "answered", Status.ABANDONED: "dropped",
                 Status.MACHINE: "machine", Status.NO_ANSWER: "no_answer",
                 Status.BUSY: "busy", Status.FAILED: "failed"}
