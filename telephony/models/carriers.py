from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction

from telephony.asterisk import carrier_numbers
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

country_code_validator = RegexValidator(
    r"^[1-9][0-9]{0,2}\Z", "A country code is 1 to 3 digits, without '+' or 00 (e.g. 44).")
digits_validator = RegexValidator(r"^[0-9]*\Z", "Digits only.")


class Carrier(models.Model):
    """A SIP trunk. Saving it writes its ps_endpoints/ps_aors/ps_auths/ps_registrations/
    ps_endpoint_id_ips rows, under ids derived from its slug so they never collide with
    extensions (which are digits only)."""

    class AuthMode(models.TextChoices):
        CREDENTIALS = "credentials", "Username and password"
        IP = "ip", "IP address only"

    class NumberFormat(models.TextChoices):
        E164_PLUS = carrier_numbers.E164_PLUS, "E.164 with + (+15551234567)"
        E164 = carrier_numbers.E164, "E.164 without + (15551234567)"
        NATIONAL = carrier_numbers.NATIONAL, "National, with a prefix (05551234567)"

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
    # How the carrier wants numbers; every shape a number is dialled in is turned into it
    # (telephony/asterisk/carrier_numbers.py).
    number_format = models.CharField(max_length=12, choices=NumberFormat.choices,
                                     default=NumberFormat.E164_PLUS)
    country_code = models.CharField(
        max_length=3, blank=True, validators=[country_code_validator],
        help_text="National format: the carrier's own country code (e.g. 44). Numbers of this "
                  "country reach the carrier as national numbers.")
    national_prefix = models.CharField(
        max_length=4, blank=True, validators=[digits_validator],
        help_text="National format: put in front of a national number (e.g. 0).")
    international_prefix = models.CharField(
        max_length=4, blank=True, default="00", validators=[digits_validator],
        help_text="National format: put in front of a number of another country (e.g. 00).")
    dial_prefix = models.CharField(max_length=10, blank=True,
                                   validators=[dial_prefix_validator])
    strip_digits = models.PositiveSmallIntegerField(default=0,
                                                    validators=[MaxValueValidator(20)])
    caller_id_number = models.CharField("caller ID override", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    qualify_frequency = models.PositiveIntegerField(
        "qualify every (seconds)", default=60, validators=[MaxValueValidator(86400)],
        help_text="How often Asterisk checks the carrier with OPTIONS; 0 turns it off, for "
                  "carriers that do not answer OPTIONS. While a check goes unanswered, "
                  "Asterisk refuses to call the carrier until the next one succeeds.")
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

    def number_routes(self) -> list[carrier_numbers.NumberRoute]:
        """How each shape of dialled number reaches this carrier (patterns and numbers)."""
        return carrier_numbers.number_routes(
            self.number_format, country_code=self.country_code,
            national_prefix=self.national_prefix,
            international_prefix=self.international_prefix, strip=self.strip_digits,
            prefix=self.dial_prefix)

    def dial_number(self, number: str) -> str:
        """`number` (E.164, or as dialled) as this carrier receives it."""
        return carrier_numbers.dial_number(self.number_routes(), number)

    def clean(self) -> None:
        super().clean()
        if self.number_format == self.NumberFormat.NATIONAL and not self.country_code:
            raise ValidationError({"country_code": "The national format needs the country "
                                                   "code of the carrier's country."})
        # Before the unique check: 'ACME' and 'acme' are one Asterisk id (trunk-acme), and
        # MariaDB matches ids case-insensitively (docs/asterisk-behaviour.md).
        self.slug = (self.slug or "").lower()
