from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.urls import reverse

from telephony.asterisk.values import (
    callerid_problem,
    format_callerid,
    secret_generate,
    secret_problem,
)
from telephony.validators import (
    caller_id_number_validator,
    context_name_validator,
    display_name_validator,
    extension_validator,
)

DEFAULT_CODECS = "ulaw,alaw"
DEFAULT_TRANSPORT = "transport-udp"


class PhoneQuerySet(models.QuerySet):
    def active_of(self, user) -> "Phone | None":
        """The user's active phone (at most one): calls ring it, agents see it. An inactive
        phone does not count."""
        return self.filter(user=user, is_active=True).select_related("server").first()

    def delete(self):
        """Bulk deletes remove the realtime rows too: a deleted phone must stop registering
        even when it goes by `Phone.objects.filter(...).delete()` rather than `phone.delete()`."""
        # Imported here: telephony.realtime sits above the models and imports them.
        from telephony.realtime.phones import extensions_unsync

        with transaction.atomic():
            extensions_unsync(list(self.values_list("extension", flat=True)))
            return super().delete()


class Phone(models.Model):
    """A SIP extension. Saving it writes the ps_endpoints/ps_auths/ps_aors rows Asterisk reads."""

    extension = models.CharField(max_length=15, unique=True, validators=[extension_validator])
    name = models.CharField(max_length=80, validators=[display_name_validator])
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
                                      validators=[display_name_validator])
    caller_id_number = models.CharField("caller ID number", max_length=21, blank=True,
                                        validators=[caller_id_number_validator])
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="phones")
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PhoneQuerySet.as_manager()

    class Meta:
        ordering = ["extension"]
        constraints = [
            # Enforced by PostgreSQL and SQLite; MySQL has no partial indexes, so the service
            # layer checks it too (services.phones._check_assignable).
            models.UniqueConstraint(fields=["user"], condition=models.Q(is_active=True),
                                    name="one_active_phone_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.extension} ({self.name})"

    def save(self, *args, **kwargs) -> None:
        """Save the phone and write its realtime rows in one transaction (all or nothing)."""
        from telephony.realtime.phones import phone_sync

        if not self.secret:
            self.secret = secret_generate()
        adding = self._state.adding
        try:
            with transaction.atomic():
                previous = None
                if self.pk is not None:
                    previous = (Phone.objects.filter(pk=self.pk)
                                .values_list("extension", flat=True).first())
                super().save(*args, **kwargs)
                phone_sync(self, previous_extension=previous)
        except BaseException:
            if adding:
                # The INSERT was rolled back: do not let the instance pretend it exists.
                self.pk = None
                self._state.adding = True
            raise

    def get_absolute_url(self) -> str:
        return reverse("telephony:phone_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        """Delete the phone, its realtime rows and its leftover ps_contacts together."""
        from telephony.realtime.phones import phone_unsync

        with transaction.atomic():
            phone_unsync(self.extension)
            return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.secret and (problem := secret_problem(self.secret)):
            raise ValidationError({"secret": problem})
        if problem := callerid_problem(self.caller_id_name, self.caller_id_number):
            raise ValidationError({"caller_id_name": problem})

    @property
    def callerid(self) -> str | None:
        """The endpoint's callerid column as Asterisk will read it."""
        return format_callerid(self.caller_id_name, self.caller_id_number)
