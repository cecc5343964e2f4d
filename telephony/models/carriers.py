from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction

from telephony.validators import (
    caller_id_number_validator,
    context_name_validator,
    credential_validator,
    dial_prefix_validator,
    display_name_validator,
    hostname_validator,
    odbc_value_validator,
    sip_user_validator,
)


class Carrier(models.Model):
    """A SIP trunk. Saving it writes its ps_endpoints/ps_aors/ps_auths/ps_registrations/
    ps_endpoint_id_ips rows, under ids derived from its slug so they never collide with
    extensions (which are digits only)."""

    class AuthMode(models.TextChoices):
        CREDENTIALS = "credentials", "Username and password"
        IP = "ip", "IP address only"

    name = models.CharField(max_length=100, unique=True, validators=[display_name_validator])
    slug = models.SlugField(max_length=40, unique=True, validators=[context_name_validator],
                            help_text="Lowercase letters, digits and '-'; used in Asterisk ids.")
    server = models.ForeignKey("telephony.AsteriskServer", on_delete=models.PROTECT,
                               related_name="carriers")
    # Widths are those of the realtime columns the values are copied to (ps_endpoint_id_ips.match
    # 80, ps_auths.username 40 / password 80, ps_endpoints.from_user / from_domain 40): a longer
    # value would fail there, or be cut, after this row was accepted.
    host = models.CharField(max_length=80, validators=[hostname_validator])
    port = models.PositiveIntegerField(default=5060,
                                       validators=[MinValueValidator(1), MaxValueValidator(65535)])
    transport = models.CharField(max_length=40, default="transport-udp",
                                 validators=[context_name_validator])
    auth_mode = models.CharField(max_length=12, choices=AuthMode.choices,
                                 default=AuthMode.CREDENTIALS)
    username = models.CharField(max_length=40, blank=True,
                                validators=[sip_user_validator, odbc_value_validator])
    password = models.CharField(max_length=80, blank=True,
                                validators=[credential_validator, odbc_value_validator])
    register = models.BooleanField(default=False)
    from_user = models.CharField(max_length=40, blank=True,
                                 validators=[sip_user_validator, odbc_value_validator])
    from_domain = models.CharField(max_length=40, blank=True, validators=[hostname_validator])
    codecs = models.CharField(max_length=200, default="ulaw,alaw",
                              validators=[odbc_value_validator])
    dial_prefix = models.CharField(max_length=10, blank=True,
                                   validators=[dial_prefix_validator])
    strip_digits = models.PositiveSmallIntegerField(default=0,
                                                    validators=[MaxValueValidator(20)])
    caller_id_number = models.CharField("caller ID override", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    max_channels = models.PositiveIntegerField(
        default=0, help_text="Maximum simultaneous calls; 0 means no limit.")
    is_active = models.BooleanField("active", default=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Save the carrier and its realtime rows together; a changed slug drops the old ids."""
        from telephony.realtime.carriers import (
            carrier_object_id,
            carrier_sync,
            carrier_unsync,
        )

        self.slug = (self.slug or "").lower()  # also for paths that skip full_clean

        with transaction.atomic():
            previous_slug = None
            if self.pk:
                previous_slug = (Carrier.objects.filter(pk=self.pk)
                                 .values_list("slug", flat=True).first())
            super().save(*args, **kwargs)
            if previous_slug and carrier_object_id(previous_slug) != carrier_object_id(self.slug):
                carrier_unsync(carrier_object_id(previous_slug))
            carrier_sync(self)

    def delete(self, *args, **kwargs):
        from telephony.realtime.carriers import carrier_object_ids, carrier_unsync

        with transaction.atomic():
            carrier_unsync(carrier_object_ids(self))
            return super().delete(*args, **kwargs)

    @property
    def uses_credentials(self) -> bool:
        """The trunk authenticates with a username and password (not by address alone)."""
        return self.auth_mode == self.AuthMode.CREDENTIALS

    def clean(self) -> None:
        super().clean()
        # Before the unique check: 'ACME' and 'acme' are one Asterisk id (trunk-acme), and
        # MariaDB matches ids case-insensitively (docs/asterisk-behaviour.md).
        self.slug = (self.slug or "").lower()
