"""Agents at work on a campaign: their session (a phone call parked in their own holding
bridge) and every state change, timestamped for reports."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from telephony.validators import safe_text_validator


class PauseCode(models.Model):
    """Why an agent paused (break, training, ...): the admin defines the list."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60, validators=[safe_text_validator])
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentSession(models.Model):
    """One agent working one campaign, from the call to their phone until it hangs up.

    The id is ours and is also the ARI channel id of the agent's leg, so events find the
    session without a lookup table. `idle_since` orders ready agents: the longest idle gets
    the next customer.
    """

    class State(models.TextChoices):
        LOGGED_OUT = "logged_out", "Logged out"
        READY = "ready", "Ready"
        RESERVED = "reserved", "Reserved"
        ON_CALL = "on_call", "On call"
        WRAP_UP = "wrap_up", "Wrap-up"
        PAUSED = "paused", "Paused"

    WORKING = (State.READY, State.RESERVED, State.ON_CALL, State.WRAP_UP)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="dialer_sessions")
    campaign = models.ForeignKey("telephony.Campaign", null=True, on_delete=models.SET_NULL,
                                 related_name="agent_sessions")
    phone = models.ForeignKey("telephony.Phone", null=True, on_delete=models.SET_NULL,
                              related_name="agent_sessions")
    server = models.ForeignKey("telephony.AsteriskServer", null=True, on_delete=models.SET_NULL,
                               related_name="agent_sessions")
    state = models.CharField(max_length=12, choices=State.choices, default=State.LOGGED_OUT,
                             db_index=True)
    pause_code = models.ForeignKey(PauseCode, null=True, blank=True, on_delete=models.SET_NULL)
    state_since = models.DateTimeField(default=timezone.now)
    idle_since = models.DateTimeField(null=True, blank=True)
    bridge_id = models.CharField(max_length=64, blank=True)
    attempt_id = models.UUIDField(null=True, blank=True)  # the customer being handled
    started_at = models.DateTimeField(default=timezone.now)
    connected_at = models.DateTimeField(null=True, blank=True)  # the agent's phone answered
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=80, blank=True)
    # The agent's id while the session is live, NULL once it ended: unique, so a second
    # "start" cannot call the same agent's phone twice (a partial unique index would say it
    # better, but MariaDB has none; all three databases allow many NULLs in a unique column).
    live_agent_id = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["campaign", "state", "idle_since"])]

    def __str__(self) -> str:
        return f"{self.agent} on {self.campaign} ({self.get_state_display()})"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


class AgentStateChange(models.Model):
    session = models.ForeignKey(AgentSession, on_delete=models.CASCADE,
                                related_name="state_changes")
    from_state = models.CharField(max_length=12, choices=AgentSession.State.choices,
                                  blank=True)
    to_state = models.CharField(max_length=12, choices=AgentSession.State.choices)
    pause_code = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state} at {self.at:%H:%M:%S}"


class PreviewSkip(models.Model):
    """A lead an agent was shown in preview mode and skipped, with their reason: the lead was
    given back undialled (no attempt, so nothing in the ledger)."""

    session = models.ForeignKey(AgentSession, null=True, on_delete=models.SET_NULL,
                                related_name="preview_skips")
    campaign_id = models.BigIntegerField(db_index=True)
    lead_id = models.BigIntegerField(db_index=True)
    phone_number = models.CharField(max_length=24)
    agent_id = models.BigIntegerField(null=True)
    agent_username = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=120, validators=[safe_text_validator])
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone_number} skipped by {self.agent_username}: {self.reason}"
