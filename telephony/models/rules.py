"""Calling rules: when a campaign may call a lead, as data an admin can adjust.

A `CallingRules` row is a named set (days of the week, hours, blocked dates, attempt and
abandonment limits). Jurisdiction presets (`telephony.calling.presets`) create such rows; after
that they are ordinary data. `telephony.calling.rules.lead_callable` is the one function that
applies them, always in the lead's own local time.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

# ISO weekday digits, Monday=1 .. Sunday=7 (what date.isoweekday() returns).
weekdays_validator = RegexValidator(r"^[1-7]{1,7}$", "Use the digits 1 (Monday) to 7 (Sunday).")


class AbandonWindow(models.TextChoices):
    # How regulators measure the abandoned-call rate: the US TSR per campaign over 30 days,
    # the UK's Ofcom over 24 hours.
    DAYS_30 = "30d", "30 days (US Telemarketing Sales Rule)"
    HOURS_24 = "24h", "24 hours (UK Ofcom)"


class CallingRules(models.Model):
    name = models.CharField(max_length=100, unique=True)
    preset = models.CharField(max_length=20, blank=True,
                              help_text="The jurisdiction preset this set was created from.")
    description = models.TextField(blank=True, help_text="Where these rules come from.")
    weekdays = models.CharField("days of the week", max_length=7, default="1234567",
                                validators=[weekdays_validator],
                                help_text="Digits 1 (Monday) to 7 (Sunday), e.g. 123456.")
    start_time = models.TimeField(default=datetime.time(8, 0),
                                  help_text="Earliest local time of the lead.")
    end_time = models.TimeField(default=datetime.time(21, 0),
                                help_text="Calls start strictly before this local time.")
    max_attempts_per_24h = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Most calls to one lead in any 24 hours (empty: no such limit).")
    min_ring_seconds = models.PositiveSmallIntegerField(default=15,
                                                        validators=[MinValueValidator(15)])
    max_abandon_percent = models.DecimalField(
        max_digits=4, decimal_places=2, default=3,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    abandon_window = models.CharField(max_length=3, choices=AbandonWindow.choices,
                                      default=AbandonWindow.DAYS_30)
    information_message_required = models.BooleanField(
        default=False, help_text="An abandoned call must play the safe-harbor message.")
    amd_redial_block_hours = models.PositiveSmallIntegerField(
        default=0, help_text="After an answering-machine-detected call was dropped, do not call "
                             "the lead again without an agent for this many hours (Ofcom: 72).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "calling rules"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The calling window must end after it starts "
                                               "(windows over midnight are not supported)."})


class BlockedDate(models.Model):
    """A day (the lead's local date) on which the rules allow no calls: a holiday."""

    rules = models.ForeignKey(CallingRules, on_delete=models.CASCADE,
                              related_name="blocked_dates")
    date = models.DateField()
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["rules", "date"],
                                               name="unique_blocked_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.description}".strip()
