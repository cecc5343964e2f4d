"""Do-not-call lists: one global internal list (campaign is NULL) and one per campaign.

Numbers are E.164. A lead whose number is on the global list or on its campaign's list is
never dialled (`telephony.calling.rules.lead_callable`), whatever its state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DncEntry(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        IMPORT = "import", "CSV import"
        DISPOSITION = "disposition", "Agent's disposition"

    number = models.CharField(max_length=16)
    campaign = models.ForeignKey("telephony.Campaign", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="dnc_entries",
                                 help_text="Empty: the global list, for every campaign.")
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        verbose_name = "DNC entry"
        verbose_name_plural = "DNC entries"
        # A global entry has campaign NULL, which a unique index does not compare: the
        # services add under a lock instead (services.dnc.dnc_add).
        constraints = [models.UniqueConstraint(fields=["number", "campaign"],
                                               name="unique_dnc_number_per_list")]
        indexes = [models.Index(fields=["number"], name="dnc_number_idx")]

    def __str__(self) -> str:
        return f"{self.number} ({self.campaign or 'global'})"
