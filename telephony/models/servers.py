from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from telephony.validators import (
    context_name_validator,
    credential_validator,
    e164_validator,
    hostname_validator,
)

_port = [MinValueValidator(1), MaxValueValidator(65535)]


class AsteriskServer(models.Model):
    """One Asterisk box: how softphones reach it, and how we reach its AMI and ARI."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown", "Not tested"
        OK = "ok", "Connected"
        ERROR = "error", "Failed"

    class Scheme(models.TextChoices):
        HTTP = "http", "http"
        HTTPS = "https", "https"

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField("server IP / host", max_length=255, validators=[hostname_validator],
                            help_text="The address softphones register to (SIP domain).")
    ami_host = models.CharField("AMI host", max_length=255, validators=[hostname_validator])
    ami_port = models.PositiveIntegerField("AMI port", default=5038, validators=_port)
    ami_username = models.CharField("AMI username", max_length=80,
                                    validators=[credential_validator])
    ami_password = models.CharField("AMI password", max_length=128,
                                    validators=[credential_validator])
    ari_scheme = models.CharField("ARI scheme", max_length=5, choices=Scheme.choices,
                                  default=Scheme.HTTP)
    ari_host = models.CharField("ARI host", max_length=255, validators=[hostname_validator])
    ari_port = models.PositiveIntegerField("ARI port", default=8088, validators=_port)
    ari_username = models.CharField("ARI username", max_length=80,
                                    validators=[credential_validator])
    ari_password = models.CharField("ARI password", max_length=128,
                                    validators=[credential_validator])
    ari_app = models.CharField("ARI application", max_length=80, default="autodialer",
                               validators=[context_name_validator])
    odbc_dsn = models.CharField(
        "ODBC connection name", max_length=40, default="asterisk",
        validators=[context_name_validator],
        help_text="The res_odbc.conf class this server reads the realtime tables through.")
    sip_bind = models.CharField(
        "SIP bind address", max_length=255, default="0.0.0.0", validators=[hostname_validator],
        help_text="The address the generated transport-udp binds to on this server.")
    sip_port = models.PositiveIntegerField("SIP port", default=5060, validators=_port)
    default_caller_id = models.CharField(
        "default outbound caller ID", max_length=16, blank=True, validators=[e164_validator],
        help_text="The number customers see when no campaign sets one (E.164, e.g. "
                  "+15551234567). Without it calls go out as the extension or Anonymous, "
                  "which many carriers reject.")
    is_active = models.BooleanField("active", default=True)
    connection_status = models.CharField(max_length=10, choices=Status.choices,
                                         default=Status.UNKNOWN)
    connection_message = models.TextField(blank=True)
    asterisk_version = models.CharField(max_length=40, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
