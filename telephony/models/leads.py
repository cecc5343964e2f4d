"""Lead lists and leads: who a campaign calls.

What the dialer may rely on
---------------------------
- `Lead.phone_number` is E.164 (`+` and digits), `Lead.timezone` an IANA zone name that
  `zoneinfo` knows (never empty); `timezone_guessed` says it came from the campaign's default
  because the number spans several zones.
- `Lead.state`: NEW (never called), RETRY (called, waiting for `next_eligible_at`), CALLBACK
  (a `Callback` is scheduled; `next_eligible_at` is its time), IN_PROGRESS (claimed by a
  dialer or connected to an agent), and the terminal FINAL (a final disposition), DNC,
  INVALID, EXHAUSTED. Only NEW, RETRY and CALLBACK are ever claimed.
- `attempts` (all time), `day_attempts` on `day_attempts_date` (the lead's local date),
  `recent_attempts` (UTC epoch seconds of the attempts of the last 72 hours), `last_outcome`
  and `last_attempt_at` are kept by `services.leads.lead_attempt_record`; call it once per
  dialled call with the outcome ("no_answer", "busy", "congestion", "failed", "machine",
  "dropped", "answered"). It also moves the lead to RETRY / EXHAUSTED and sets
  `next_eligible_at` from the campaign's retry delays.
- Whether a lead may be dialled now is `telephony.calling.rules.lead_callable(lead, at)` and
  nothing else (DNC lists, the calling window in the lead's zone, blocked dates, attempt
  limits, retry and callback times). `telephony.calling.selection.dialable_leads(campaign, at)`
  is the same decision as a queryset, for picking candidates in bulk.
- Claim leads with `services.leads.leads_claim(campaign=..., at=..., limit=..., claimed_by=...)`:
  a conditional UPDATE (state still claimable, not claimed) per lead, so several dialer
  processes never get the same lead; `lead_release` gives an unused claim back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q


class LeadList(models.Model):
    campaign = models.ForeignKey("telephony.Campaign", on_delete=models.CASCADE,
                                 related_name="lead_lists")
    name = models.CharField(max_length=100)
    default_region = models.CharField(
        max_length=2, default="US",
        help_text="Country whose national format numbers without +country code are read in.")
    is_active = models.BooleanField("active", default=True,
                                    help_text="Leads of inactive lists are not dialled.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"],
                                               name="unique_lead_list_name")]

    def __str__(self) -> str:
        return self.name


class LeadQuerySet(models.QuerySet):
    def with_dnc(self) -> LeadQuerySet:
        """Annotate `on_dnc`: the number is on the global list or its campaign's list."""
        from telephony.models.dnc import DncEntry

        listed = DncEntry.objects.filter(number=OuterRef("phone_number")).filter(
            Q(campaign__isnull=True) | Q(campaign=OuterRef("campaign_id")))
        return self.annotate(on_dnc=Exists(listed))

    def with_campaign_dnc(self, campaign_id: int) -> LeadQuerySet:
        """`on_dnc` for leads of one campaign: the same answer as with_dnc, but the DNC list
        is an uncorrelated `IN (SELECT ...)`, which PostgreSQL hashes once and MariaDB
        materialises, instead of one EXISTS probe per lead (the campaign page counts 100,000
        leads in about half the time)."""
        from telephony.models.dnc import DncEntry

        listed = DncEntry.objects.filter(Q(campaign__isnull=True) | Q(campaign_id=campaign_id)
                                         ).values("number")
        return self.annotate(on_dnc=models.Case(
            models.When(phone_number__in=listed, then=True), default=False,
            output_field=models.BooleanField()))


class Lead(models.Model):
    class State(models.TextChoices):
        NEW = "new", "New"
        RETRY = "retry", "Waiting to retry"
        CALLBACK = "callback", "Callback scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        FINAL = "final", "Final"
        DNC = "dnc", "Do not call"
        INVALID = "invalid", "Invalid number"
        EXHAUSTED = "exhausted", "Attempts exhausted"

    CLAIMABLE_STATES = (State.NEW, State.RETRY, State.CALLBACK)
    TERMINAL_STATES = (State.FINAL, State.DNC, State.INVALID, State.EXHAUSTED)

    campaign = models.ForeignKey("telephony.Campaign", on_delete=models.CASCADE,
                                 related_name="leads")
    lead_list = models.ForeignKey(LeadList, on_delete=models.CASCADE, related_name="leads")
    lead_import = models.ForeignKey("telephony.LeadImport", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="leads")
    source_line = models.PositiveIntegerField(null=True, blank=True,
                                              help_text="Line of the imported file.")
    phone_number = models.CharField(max_length=16)
    line_type = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64)
    timezone_guessed = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    attempts = models.PositiveIntegerField(default=0)
    day_attempts = models.PositiveSmallIntegerField(default=0)
    day_attempts_date = models.DateField(null=True, blank=True)
    recent_attempts = models.JSONField(default=list, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=20, blank=True)
    last_machine_drop_at = models.DateTimeField(null=True, blank=True)
    next_eligible_at = models.DateTimeField(null=True, blank=True)
    disposition = models.ForeignKey("telephony.Disposition", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "phone_number"],
                                               name="unique_lead_number_per_campaign")]
        indexes = [
            models.Index(fields=["campaign", "state", "next_eligible_at"],
                         name="lead_dialable_idx"),
            models.Index(fields=["lead_list", "state"], name="lead_list_state_idx"),
            models.Index(fields=["phone_number"], name="lead_number_idx"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} {self.phone_number}".strip()
