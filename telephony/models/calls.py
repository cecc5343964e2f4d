import uuid

from django.conf import settings
from django.db import models


class Call(models.Model):
    """Our log of one call. The id is ours (sent to Asterisk as ActionID and a channel
    variable), so events can be matched to the row before Asterisk's uniqueid is known."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RINGING = "ringing", "Ringing"
        ANSWERED = "answered", "Answered"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no_answer", "No answer"
        CANCELLED = "cancelled", "Cancelled"

    LIVE_STATUSES = (Status.QUEUED, Status.RINGING, Status.ANSWERED)

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"
        INTERNAL = "internal", "Internal"  # between two of our extensions

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="calls")
    phone = models.ForeignKey("telephony.Phone", null=True, on_delete=models.SET_NULL,
                              related_name="calls")
    server = models.ForeignKey("telephony.AsteriskServer", null=True, on_delete=models.SET_NULL,
                               related_name="calls")
    campaign = models.ForeignKey("telephony.Campaign", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="calls")
    # The campaign lead this call is to, when it is one (dialer calls, or a manual campaign
    # call to a number that is a lead of the campaign): the agent dispositions it.
    lead = models.ForeignKey("telephony.Lead", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="calls")
    number = models.CharField(max_length=24)
    direction = models.CharField(max_length=10, choices=Direction.choices,
                                 default=Direction.OUTBOUND)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    # The app did not start this call: the event listener saw it on one of our extensions (a
    # softphone dialling, a carrier or a colleague calling it) and follows its leg on that
    # phone. One row per extension of ours in the call (services/call_events.py).
    observed = models.BooleanField(default=False)
    channel = models.CharField(max_length=128, blank=True)
    peer_channel = models.CharField(max_length=128, blank=True)
    uniqueid = models.CharField(max_length=64, blank=True, db_index=True)
    linkedid = models.CharField(max_length=64, blank=True, db_index=True)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)
    hangup_cause_text = models.CharField(max_length=80, blank=True)
    transferred_to = models.CharField(max_length=40, blank=True)
    # What happened to the transferred party afterwards, from Asterisk's events: a transfer
    # Asterisk accepted can still fail (the target's phone unreachable) and hang them up.
    transfer_result = models.CharField(max_length=120, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField("duration (s)", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class IdempotentRequest(models.Model):
    """The first answer given to an API request carrying an Idempotency-Key header, so a
    retried click returns the same answer and never dials twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="unique_idem_key"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"
