"""Forms for extensions (phones): validate and convert, never write rows or talk to Asterisk.

Every value here ends up in a realtime row or a SIP header, so the rules are strict and the
messages say what is allowed (see `telephony/validators.py`).
"""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.urls import reverse

from telephony.asterisk.values import CODEC_CHOICES, MIN_TYPED_SECRET_LENGTH, secret_problem
from telephony.forms.common import (
    choices_with_current,
    known_contexts,
    known_transports,
    preselect_only_server,
)
from telephony.models import AsteriskServer, Phone
from telephony.models.phones import DEFAULT_CODECS, DEFAULT_TRANSPORT
from telephony.services.phone_csv import CSV_MAX_BYTES
from telephony.services.phones import EDITABLE_FIELDS, MAX_BULK
from telephony.validators import (
    display_name_validator,
    extension_validator,
)
from users.models import User
from users.roles import AGENT

CONTEXT_HELP = ("The dialplan context calls from this phone start in: the Dialplan page's "
                "contexts and the ones the generated extensions.conf defines.")
TRANSPORT_HELP = ("A transport Asterisk defines: the generated pjsip_realtime.conf has "
                  "transport-udp; others must be listed in PJSIP_EXTRA_TRANSPORTS.")
EXTENSION_LENGTH = "An extension is 2 to 15 digits, nothing else (no letters, spaces or signs)."


def context_field(current: str | None = None) -> forms.ChoiceField:
    return forms.ChoiceField(choices=choices_with_current(known_contexts(), current),
                             initial="agents", label="Context", help_text=CONTEXT_HELP)


def transport_field(current: str | None = None) -> forms.ChoiceField:
    return forms.ChoiceField(choices=choices_with_current(known_transports(), current),
                             initial=DEFAULT_TRANSPORT, label="Transport",
                             help_text=TRANSPORT_HELP)


def never_truncate(field: forms.CharField) -> None:
    """Drop the input's maxlength: a browser silently keeps the first N characters of a paste
    (30 digits became extension 111111111111111). The server's message says what is wrong."""
    field.widget.attrs.pop("maxlength", None)


def extension_field(**kwargs) -> forms.CharField:
    # No max_length: the validator's "2 to 15 digits" is the one message for every length.
    field = forms.CharField(validators=[extension_validator], **kwargs)
    field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
    return field


def agents_queryset():
    return User.objects.filter(groups__name=AGENT, is_active=True).order_by("username").distinct()


def free_agents_queryset(*, keep: int | None = None):
    """Agents without an active phone: the ones an extension can be given to. `keep` (the
    phone's current agent) stays offered so an edit does not drop it."""
    busy = Phone.objects.filter(is_active=True, user__isnull=False).values("user_id")
    return agents_queryset().filter(~Q(pk__in=busy) | Q(pk=keep))


def free_phones_queryset(*, keep_user: User | None = None):
    """Extensions nobody has (for the user form), plus `keep_user`'s active one."""
    free = Q(user__isnull=True)
    if keep_user is not None and keep_user.pk:
        free |= Q(user=keep_user, is_active=True)
    return Phone.objects.filter(free).order_by("extension")


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full_name = obj.get_full_name()
        return f"{obj.username} ({full_name})" if full_name else obj.username


class CodecsField(forms.MultipleChoiceField):
    """A checkbox list of codec names, cleaned to Asterisk's comma list (`ulaw,alaw`)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", CODEC_CHOICES)
        kwargs.setdefault("initial", DEFAULT_CODECS.split(","))
        kwargs.setdefault("help_text", "Offered in this order; the phone picks among them.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return [codec for codec in value.split(",") if codec]
        return value

    def clean(self, value) -> str:
        codecs = super().clean(value)
        # Keep the order of the list above so the preferred (most compatible) codecs come first.
        return ",".join(name for name, _label in CODEC_CHOICES if name in codecs)


class PhoneForm(forms.ModelForm):
    """Create or edit an extension. The secret is generated unless the admin types one."""

    codecs = CodecsField()
    user = AgentChoiceField(queryset=agents_queryset(), required=False, label="Agent",
                            help_text="Only users with the Agent role and no active phone yet.")
    new_secret = forms.CharField(
        label="Secret (SIP password)", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"Leave blank to generate a strong one. At least {MIN_TYPED_SECRET_LENGTH} "
                  "characters, no ';', '^', spaces or line breaks.",
    )
    regenerate_secret = forms.BooleanField(
        required=False, label="Generate a new secret",
        help_text="The phone must then be re-provisioned with the new password.")

    class Meta:
        model = Phone
        fields = list(EDITABLE_FIELDS)
        error_messages = {
            "extension": {"unique": "This extension already exists."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        user_field.queryset = agents_queryset()
        # Offered: agents without an active phone. Accepted: any agent, so an agent who has
        # one gets the clear "already has active extension" below (and an inactive spare may
        # still go to them), not "not one of the available choices".
        user_field.choices = [("", user_field.empty_label)] + [
            (agent.pk, user_field.label_from_instance(agent))
            for agent in free_agents_queryset(keep=self.instance.user_id)]
        # agent-picker.js adds a search box that asks this endpoint (300 agents is normal).
        self.fields["user"].widget.attrs["data-agent-search"] = (
            reverse("telephony:phone_agent_search")
            + (f"?phone={self.instance.pk}" if self.instance.pk else ""))
        preselect_only_server(self.fields["server"])
        editing = self.instance.pk is not None
        self.fields["extension"] = extension_field(
            label="Extension", error_messages={"unique": "This extension already exists."})
        self.fields["context"] = context_field(self.instance.context if editing else None)
        self.fields["transport"] = transport_field(self.instance.transport if editing else None)
        for name in ("name", "caller_id_name"):
            never_truncate(self.fields[name])
        if self.instance.pk is None:
            del self.fields["regenerate_secret"]
        else:
            self.fields["new_secret"].help_text = (
                "Leave blank to keep the current secret. At least "
                f"{MIN_TYPED_SECRET_LENGTH} characters, no ';', '^', spaces or line breaks.")

    def clean_new_secret(self) -> str:
        secret = self.cleaned_data["new_secret"]
        if secret and (problem := secret_problem(secret)):
            raise forms.ValidationError(problem)
        return secret

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        active = cleaned.get("is_active")
        if user and active:
            taken = (Phone.objects.filter(user=user, is_active=True)
                     .exclude(pk=self.instance.pk).first())
            if taken:
                # Reported here so the database's partial unique constraint is never the message.
                self.add_error("user", f"{user.username} already has active extension "
                                       f"{taken.extension}; a user has at most one active phone.")
        if cleaned.get("new_secret") and cleaned.get("regenerate_secret"):
            self.add_error("new_secret", "Type a secret or ask for a new one, not both.")
        return cleaned


class PhoneBulkForm(forms.Form):
    """A range of extensions created in one go: `2000`..`2999` named `Agent {ext}`."""

    start = extension_field(label="First extension")
    end = extension_field(label="Last extension")
    name_pattern = forms.CharField(
        max_length=80, initial="Agent {ext}",
        help_text="{ext} is replaced by the extension number.")
    server = forms.ModelChoiceField(queryset=AsteriskServer.objects.order_by("name"))
    context = forms.ChoiceField(help_text=CONTEXT_HELP)
    codecs = CodecsField()
    transport = forms.ChoiceField(help_text=TRANSPORT_HELP)
    max_contacts = forms.IntegerField(initial=1,
                                      validators=[MinValueValidator(1), MaxValueValidator(20)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preselect_only_server(self.fields["server"])
        self.fields["context"] = context_field()
        self.fields["transport"] = transport_field()
        never_truncate(self.fields["name_pattern"])

    def clean_name_pattern(self) -> str:
        pattern = self.cleaned_data["name_pattern"]
        without = pattern.replace("{ext}", "")
        if "{" in without or "}" in without:
            raise forms.ValidationError("The only placeholder is {ext}.")
        display_name_validator(without)
        return pattern

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if int(end) < int(start):
                self.add_error("end", "The last extension must not be below the first.")
            elif int(end) - int(start) + 1 > MAX_BULK:
                self.add_error("end", f"At most {MAX_BULK:,} extensions at once "
                                      f"(this range has {int(end) - int(start) + 1:,}).")
            elif len(str(int(end)).zfill(len(start))) > 15:
                self.add_error("end", "Extensions are at most 15 digits.")
        pattern = cleaned.get("name_pattern")
        # The longest name is the last extension padded to the first one's width.
        longest = end.zfill(len(start or "")) if end else end
        if pattern and end and len(pattern.replace("{ext}", longest)) > 80:
            self.add_error("name_pattern", "Names are at most 80 characters.")
        return cleaned


class PhoneImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV, separated by commas, "
                           "semicolons or tabs; at most 2 MB and 10,000 rows.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 2 MB "
                "(10,000 rows). Split it into several files.")
        return upload
