from django.db import models

from telephony.validators import caller_id_number_validator, safe_text_validator


class Campaign(models.Model):
    """A calling campaign. Minimal for now: agents pick one when dialling, for caller ID."""

    name = models.CharField(max_length=100, unique=True, validators=[safe_text_validator])
    description = models.TextField(blank=True)
    is_active = models.BooleanField("active", default=True)
    caller_id_name = models.CharField("caller ID name", max_length=40, blank=True,
                                      validators=[safe_text_validator])
    caller_id_number = models.CharField("caller ID number", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    carrier = models.ForeignKey("telephony.Carrier", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="campaigns")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
