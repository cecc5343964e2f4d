"""Campaigns: what an outbound campaign dials with, and the history of its status.

The dialer reads these fields (docs/campaigns.md explains them to supervisors): `status`
(only RUNNING campaigns are dialled), `dial_mode`, `carrier` and `other_carriers` (a call goes
out on the server of the agent it is for, through the campaign's carrier there: `carrier_on`),
`ring_timeout`, the attempt limits and the retry delays per outcome
(`retry_delay_for(outcome)`), the abandon-rate target and window, `wrapup_seconds`,
`disposition_required` (in wrap-up, a disposition before Ready or Pause), `safe_harbor_sound`
and `calling_rules` (None: the built-in US federal defaults).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from telephony.models.rules import AbandonWindow
from telephony.validators import (
    caller_id_number_validator,
    safe_text_validator,
    sound_name_validator,
    timezone_validator,
)

# The US Telemarketing Sales Rule's minimum: 15 seconds or four rings before an unanswered
# call may be disconnected (16 CFR 310.4(b)(4)(i)).
MIN_RING_TIMEOUT = 15


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"

    # Which status may follow which (draft → running ⇄ paused → finished).
    TRANSITIONS = {
        Status.DRAFT: (Status.RUNNING, Status.FINISHED),
        Status.RUNNING: (Status.PAUSED, Status.FINISHED),
        Status.PAUSED: (Status.RUNNING, Status.FINISHED),
        Status.FINISHED: (),
    }
    # Agents may place calls for a campaign in these statuses (a draft is not ready yet).
    OPEN_STATUSES = (Status.RUNNING, Status.PAUSED)

    class MachineAction(models.TextChoices):
        HANG_UP = "hangup", "Hang up"
        MESSAGE = "message", "Play a message, then hang up"

    class NotSure(models.TextChoices):
        HUMAN = "human", "Treat as a person (give to an agent)"
        MACHINE = "machine", "Treat as a machine"

    class DialMode(models.TextChoices):
        MANUAL = "manual", "Manual (the agent types or picks the number)"
        PREVIEW = "preview", "Preview (the agent sees the lead, then dials)"
        PROGRESSIVE = "progressive", "Progressive (one call per free agent)"
        PREDICTIVE = "predictive", "Predictive (paced by the abandon-rate target)"

    name = models.CharField(max_length=100, unique=True, validators=[safe_text_validator])
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    dial_mode = models.CharField(max_length=12, choices=DialMode.choices,
                                 default=DialMode.MANUAL)
    caller_id_name = models.CharField("caller ID name", max_length=40, blank=True,
                                      validators=[safe_text_validator])
    caller_id_number = models.CharField("caller ID number", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    carrier = models.ForeignKey("telephony.Carrier", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="campaigns")
    # A carrier belongs to one Asterisk server, and a customer is given only to an agent on
    # the server that carries the call (the bridge is there): agents on other servers need a
    # carrier of their own server. At most one per server (the form checks it).
    other_carriers = models.ManyToManyField(
        "telephony.Carrier", blank=True, related_name="campaigns_elsewhere",
        verbose_name="carriers on other servers",
        help_text="For agents whose phones are on another Asterisk server than the carrier "
                  "above: their customers are dialled on their own server, through its "
                  "carrier here. One per server.")
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                    related_name="campaigns")
    calling_rules = models.ForeignKey("telephony.CallingRules", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="campaigns")
    default_timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[timezone_validator],
        help_text="For leads whose number spans several zones and whose row names none.")
    ring_timeout = models.PositiveSmallIntegerField(
        "ring timeout (s)", default=20,
        validators=[MinValueValidator(MIN_RING_TIMEOUT), MaxValueValidator(120)])
    max_attempts = models.PositiveSmallIntegerField(
        "attempts per lead", default=5, validators=[MinValueValidator(1)])
    max_attempts_per_day = models.PositiveSmallIntegerField(
        "attempts per lead per day", default=3, validators=[MinValueValidator(1)])
    retry_no_answer_minutes = models.PositiveIntegerField(
        "retry after no answer (min)", default=120, validators=[MinValueValidator(1)])
    retry_busy_minutes = models.PositiveIntegerField(
        "retry after busy (min)", default=15, validators=[MinValueValidator(1)])
    retry_congestion_minutes = models.PositiveIntegerField(
        "retry after congestion (min)", default=10, validators=[MinValueValidator(1)])
    retry_machine_minutes = models.PositiveIntegerField(
        "retry after answering machine (min)", default=240, validators=[MinValueValidator(1)])
    retry_dropped_minutes = models.PositiveIntegerField(
        "retry after a dropped call (min)", default=60, validators=[MinValueValidator(1)])
    abandon_target_percent = models.DecimalField(
        "abandon-rate target (%)", max_digits=4, decimal_places=2, default=3,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    abandon_window = models.CharField(max_length=3, choices=AbandonWindow.choices,
                                      default=AbandonWindow.DAYS_30)
    wrapup_seconds = models.PositiveSmallIntegerField(
        "wrap-up limit (s)", default=60, validators=[MaxValueValidator(3600)],
        help_text="How long an agent may take to pick a disposition; 0 means no limit.")
    disposition_required = models.BooleanField(
        "a disposition before the next call", default=False,
        help_text="Dialer calls: in wrap-up, Ready and Pause are refused until the agent saves "
                  "a disposition (its 'Then' choice moves them on). The wrap-up limit still "
                  "ends a wrap-up without one (recorded as NODISPO, the agent made ready), so "
                  "no agent sits idle for ever: keep a limit.")
    # The converted file's name without extension, relative to the sounds directory Asterisk
    # reads (docs/campaigns.md): what Playback() takes.
    safe_harbor_sound = models.CharField(max_length=100, blank=True, editable=False)
    safe_harbor_original_name = models.CharField(max_length=200, blank=True, editable=False)
    # Answering-machine detection (docs/dialer.md): Asterisk's AMD() listens to the greeting
    # of every answered call before an agent gets it.
    amd_enabled = models.BooleanField(
        "answering-machine detection", default=False,
        help_text="Listen to each answered call's greeting (up to 5 s) before giving it to "
                  "an agent; machines are not given to agents.")
    amd_machine_action = models.CharField(
        "when a machine answers", max_length=10, choices=MachineAction.choices,
        default=MachineAction.HANG_UP)
    amd_machine_sound = models.CharField(
        "machine message (sound)", max_length=100, blank=True,
        validators=[sound_name_validator],
        help_text="The sound Asterisk plays to a machine, by name in its sounds directory "
                  "without extension (e.g. autodialer/machine-message).")
    amd_notsure = models.CharField(
        "when AMD is not sure", max_length=10, choices=NotSure.choices,
        default=NotSure.HUMAN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def carrier_on(self, server_id: int | None):
        """The active carrier this campaign dials through on Asterisk server `server_id`: the
        main one if it is there, else the one of `other_carriers` on that server; None when
        the campaign has none there (its agents on that server get no dialer calls)."""
        if self.carrier is not None and self.carrier.server_id == server_id:
            return self.carrier if self.carrier.is_active else None
        if self.pk is None:
            return None
        return (self.other_carriers.filter(server_id=server_id, is_active=True)
                .select_related("server").first())

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (self.amd_enabled and self.amd_machine_action == self.MachineAction.MESSAGE
                and not self.amd_machine_sound):
            raise ValidationError({"amd_machine_sound": "Name the message to play to "
                                                        "machines, or choose to hang up."})

    def retry_delay_for(self, outcome: str) -> int | None:
        """Minutes before a lead whose call ended with `outcome` may be called again."""
        return {
            "no_answer": self.retry_no_answer_minutes,
            "busy": self.retry_busy_minutes,
            "congestion": self.retry_congestion_minutes,
            "failed": self.retry_congestion_minutes,
            "machine": self.retry_machine_minutes,
            "dropped": self.retry_dropped_minutes,
        }.get(outcome)


class CampaignStatusChange(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE,
                                 related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Campaign.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Campaign.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.from_status or '—'} → {self.to_status}"
