"""The compliance ledger: one append-only row per customer call the dialer launched.

A row is written before the originate (its id is the customer channel's id), filled in while
the call goes on, and sealed (`closed_at`) when nothing more can happen to it: at hang-up, or
once the agent has saved the disposition of a connected call. A sealed row can never be
updated or deleted: the model refuses it with LedgerSealed, and a database trigger refuses it
on PostgreSQL, MariaDB and SQLite (migration 0007) for any code that goes around the model.

The ledger keeps ids and copies (lead id, number, agent name, carrier name), not foreign
keys: deleting a lead list, a user or a carrier must not change or cascade into audit rows.
"""

import uuid

from django.db import models


class LedgerSealed(Exception):
    """An attempt that has ended may not be changed or deleted."""


class DialAttemptQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(closed_at__isnull=False).exists():
            raise LedgerSealed("Sealed attempts cannot be updated")
        return super().update(**kwargs)

    def delete(self):
        raise LedgerSealed("Attempts are never deleted")

    def open(self) -> "DialAttemptQuerySet":
        return self.filter(closed_at__isnull=True)


class DialAttempt(models.Model):
    class Status(models.TextChoices):
        DIALING = "dialing", "Dialing"  # row written, originate sent or about to be
        RINGING = "ringing", "Ringing"
        DETECTING = "detecting", "Answered, machine detection"  # AMD() listening
        ANSWERED = "answered", "Answered, waiting for an agent"
        CONNECTED = "connected", "Connected to an agent"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"
        MACHINE = "machine", "Answering machine"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"

    LIVE = (Status.DIALING, Status.RINGING, Status.DETECTING, Status.ANSWERED,
            Status.CONNECTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign_id = models.BigIntegerField(db_index=True)
    lead_id = models.BigIntegerField(null=True, db_index=True)
    phone_number = models.CharField(max_length=24)
    server_id = models.BigIntegerField(null=True)
    carrier_id = models.BigIntegerField(null=True)
    carrier_name = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=64, blank=True)  # which run_dialer launched it
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DIALING,
                              db_index=True)
    created_at = models.DateTimeField(db_index=True)  # when the row was written (launch)
    answered_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)  # bridged with the agent
    ended_at = models.DateTimeField(null=True, blank=True)  # the customer leg hung up
    ring_seconds = models.FloatField(null=True, blank=True)  # launch to answer or to the end
    talk_seconds = models.FloatField(null=True, blank=True)  # connected to hang-up
    wrap_seconds = models.FloatField(null=True, blank=True)  # the agent's wrap-up after it
    abandoned = models.BooleanField(default=False)
    amd_result = models.CharField(max_length=20, blank=True)  # AMDSTATUS: HUMAN, MACHINE, ...
    amd_cause = models.CharField(max_length=64, blank=True)  # AMDCAUSE: LONGGREETING-1500-1500
    # AMD's verdict: the end of the greeting, where the 2-second grace clock starts.
    amd_at = models.DateTimeField(null=True, blank=True)
    agent_id = models.BigIntegerField(null=True, blank=True)
    agent_username = models.CharField(max_length=150, blank=True)
    disposition = models.CharField(max_length=40, blank=True)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)
    hangup_cause_text = models.CharField(max_length=80, blank=True)
    error = models.CharField(max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = DialAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone_number} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and DialAttempt.objects.filter(
                pk=self.pk, closed_at__isnull=False).exists():
            raise LedgerSealed(f"Attempt {self.pk} has ended and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerSealed("Attempts are never deleted")

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE
