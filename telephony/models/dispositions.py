"""Dispositions (what the agent says a call came to), their policies, and callbacks."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Disposition(models.Model):
    class Policy(models.TextChoices):
        FINAL = "final", "Final: never call this lead again"
        RETRY = "retry", "Retry after a delay"
        CALLBACK = "callback", "Schedule a callback"
        DNC = "dnc", "Add the number to the campaign's do-not-call list"

    # What the system writes in the ledger when a wrap-up ends without the agent's
    # disposition (Ready, Pause, the time limit, the phone hung up): VICIdial's dispo
    # timeout. Not a row of any campaign, so reserved as a name: an audit must tell them apart.
    NO_DISPOSITION = "NODISPO"
    NO_DISPOSITION_LABEL = "No disposition (wrap-up ended)"

    campaign = models.ForeignKey("telephony.Campaign", on_delete=models.CASCADE,
                                 related_name="dispositions")
    name = models.CharField(max_length=60)
    policy = models.CharField(max_length=10, choices=Policy.choices, default=Policy.FINAL)
    retry_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(525_600)],
        help_text="For 'Retry': minutes before the lead may be called again.")
    is_sale = models.BooleanField("counts as a sale", default=False)
    is_contact = models.BooleanField("a person was reached", default=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["campaign", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"],
                                               name="unique_disposition_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.name or "").strip().upper() == self.NO_DISPOSITION:
            raise ValidationError({"name": f"{self.NO_DISPOSITION} is the system's own: what "
                                           f"the ledger shows when a wrap-up ends without a "
                                           f"disposition."})
        if self.policy == self.Policy.RETRY and not self.retry_minutes:
            raise ValidationError({"retry_minutes": "A 'Retry' disposition needs its delay in "
                                                    "minutes."})
        if self.policy != self.Policy.RETRY and self.retry_minutes:
            raise ValidationError({"retry_minutes": "Only a 'Retry' disposition has a delay."})


class CallDisposition(models.Model):
    """One disposition of a call, with the notes; the history of a lead. Either an agent's
    (`disposition`, a row of the campaign) or the system's (`system_code`: NODISPO, when a
    dialer call's wrap-up ended without one), never both: a check constraint holds it."""

    class SystemCode(models.TextChoices):
        NO_DISPOSITION = Disposition.NO_DISPOSITION, Disposition.NO_DISPOSITION_LABEL

    disposition = models.ForeignKey(Disposition, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="uses")
    system_code = models.CharField(max_length=10, blank=True, choices=SystemCode.choices)
    call = models.OneToOneField("telephony.Call", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="disposition_record")
    lead = models.ForeignKey("telephony.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="dispositions")
    campaign = models.ForeignKey("telephony.Campaign", on_delete=models.CASCADE,
                                 related_name="call_dispositions")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="dispositions")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(
            condition=(models.Q(disposition__isnull=False, system_code="")
                       | models.Q(disposition__isnull=True,
                                  system_code__in=[Disposition.NO_DISPOSITION])),
            name="call_disposition_agent_xor_system",
            violation_error_message="An entry is either one of the campaign's dispositions or "
                                    "the system's NODISPO: set exactly one of them.")]

    def __str__(self) -> str:
        return f"{self.label} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def label(self) -> str:
        """What a reader of the history sees: the campaign's disposition, or the system's."""
        if self.disposition_id is None:
            return self.get_system_code_display()
        return self.disposition.name


class Callback(models.Model):
    lead = models.ForeignKey("telephony.Lead", on_delete=models.CASCADE,
                             related_name="callbacks")
    campaign = models.ForeignKey("telephony.Campaign", on_delete=models.CASCADE,
                                 related_name="callbacks")
    scheduled_at = models.DateTimeField(db_index=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="callbacks",
                              help_text="Empty: any agent of the campaign.")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scheduled_at"]
        indexes = [models.Index(fields=["agent", "completed_at", "scheduled_at"],
                                name="callback_due_idx")]

    def __str__(self) -> str:
        return f"{self.lead} at {self.scheduled_at:%Y-%m-%d %H:%M}"
