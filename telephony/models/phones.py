from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from telephony.validators import (
    caller_id_number_validator,
    context_name_validator,
    extension_validator,
    safe_text_validator,
)

DEFAULT_CODECS = "ulaw,alaw"
DEFAULT_TRANSPORT = "transport-udp"


class Phone(models.Model):
    """A SIP extension. Saving it writes the ps_endpoints/ps_auths/ps_aors rows Asterisk reads."""

    extension = models.CharField(max_length=15, unique=True, validators=[extension_validator])
    name = models.CharField(max_length=80, validators=[safe_text_validator])
    secret = models.CharField(max_length=64)
    server = models.ForeignKey("telephony.AsteriskServer", on_delete=models.PROTECT,
                               related_name="phones")
    context = models.CharField(max_length=40, default="agents", validators=[context_name_validator])
    codecs = models.CharField(max_length=200, default=DEFAULT_CODECS)
    transport = models.CharField(max_length=40, default=DEFAULT_TRANSPORT,
                                 validators=[context_name_validator])
    max_contacts = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)])
    caller_id_name = models.CharField("caller ID name", max_length=40, blank=True,
                                      validators=[safe_text_validator])
    caller_id_number = models.CharField("caller ID number", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="phones")
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["extension"]
        constraints = [
            # Enforced by PostgreSQL and SQLite; MySQL has no partial indexes, so the service
            # layer checks it too (phone_assign_user).
            models.UniqueConstraint(fields=["user"], condition=models.Q(is_active=True),
                                    name="one_active_phone_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.extension} ({self.name})"
