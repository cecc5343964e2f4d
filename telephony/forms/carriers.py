"""The carrier form: every value is checked against what the realtime columns and SIP URIs
can carry, so a saved carrier always produces rows Asterisk can use."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.text import slugify

from telephony.forms.common import preselect_only_server
from telephony.forms.phones import CodecsField
from telephony.models.carriers import Carrier
from telephony.realtime.carriers import phones_registered_from

# SIP user parts: letters, digits and . _ - + (the model's sip_user_validator): no '@', ':' or
# spaces (they would break the URI), no ';' or '^' (realtime values are split on ';' and '^XX'
# is decoded, docs/asterisk-behaviour.md), none of the , & $ ( ) ' * = % ! ~ RFC 3261 allows,
# which dial strings and AMI split on.
_SIP_USER = re.compile(r"^[A-Za-z0-9._+-]*\Z")


# The carrier page's 24 fields in titled sections (docs/ui.md, "Long forms: titled sections").
SECTIONS = [
    ("Carrier", ["name", "slug", "server", "is_active", "order"]),
    ("Where it is", ["host", "port", "transport", "qualify_frequency"]),
    ("Authentication", ["auth_mode", "username", "password", "register", "from_user",
                        "from_domain"]),
    ("Codecs", ["codecs"]),
    ("Numbers", ["number_format", "country_code", "national_prefix", "international_prefix",
                 "strip_digits", "dial_prefix"]),
    ("Calls", ["caller_id_number", "max_channels"]),
]


def _sections() -> FormHelper:
    """A field left out of SECTIONS still shows, after them, rather than vanishing."""
    helper = FormHelper()
    helper.form_tag = False  # templates/form_page.html draws the <form> and its token
    helper.disable_csrf = True
    helper.render_unmentioned_fields = True
    helper.layout = Layout(*[Fieldset(title, *names, css_class="form-section mb-3")
                             for title, names in SECTIONS])
    return helper


class CarrierForm(forms.ModelForm):
    # The extensions' widget and list of known codecs (issue #15), cleaned to `ulaw,alaw`.
    codecs = CodecsField(initial=["ulaw", "alaw"],
                         help_text="Offered to the carrier in this order.")

    class Meta:
        model = Carrier
        fields = ("name", "slug", "server", "host", "port", "transport", "auth_mode", "username",
                  "password", "register", "from_user", "from_domain", "codecs", "number_format",
                  "country_code", "national_prefix", "international_prefix", "dial_prefix",
                  "strip_digits", "caller_id_number", "qualify_frequency", "max_channels",
                  "is_active", "order")
        widgets = {"password": forms.PasswordInput(render_value=False)}
        help_texts = {
            "host": "The carrier's SIP server, as a host name or IP address (no port, no sip:).",
            "slug": "Leave empty to derive it from the name. The trunk's Asterisk id is "
                    "trunk-<slug>.",
            "register": "Send REGISTER to the carrier (needs a username and password).",
            "number_format": "How the carrier wants numbers. Numbers dialled with +, without "
                             "+ (taken as country code and number) and, in national format, "
                             "starting with the national prefix all reach it this way.",
            "dial_prefix": "Added in front of the number once it is in the carrier's format "
                           "(a technical prefix some carriers ask for).",
            "strip_digits": "Characters removed from the front of the number in the "
                            "carrier's format, before the dial prefix is added.",
            "order": "The first active carrier (lowest order) carries the scaffolded outbound "
                     "calls.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not errors: the carrier is saved, and the view shows these next to the result.
        self.warnings: list[str] = []
        self.fields["slug"].required = False
        preselect_only_server(self.fields["server"])
        self.helper = _sections()
        if self.instance.pk:
            self.fields["password"].help_text = "Leave empty to keep the current password."

    def clean_slug(self) -> str:
        slug = (self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("name", ""))).lower()
        if not slug:
            raise forms.ValidationError("Enter a slug: lowercase letters, digits and '-'.")
        clash = Carrier.objects.filter(slug__iexact=slug).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"The carrier {clash.first().name} already uses this slug.")
        return slug

    # Widths are the model's, which are the realtime columns' (telephony/models/carriers.py).
    def _sip_user(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        if not _SIP_USER.match(value):
            raise forms.ValidationError(
                "Use letters, digits and . _ - + only: no spaces, '@', ':', ';' or '^'.")
        return value

    def clean_username(self) -> str:
        return self._sip_user("username")

    def clean_from_user(self) -> str:
        return self._sip_user("from_user")

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and self.instance.pk:
            return self.instance.password
        if ";" in password or "^" in password:
            raise forms.ValidationError(
                "A password cannot contain ';' or '^': Asterisk's realtime driver would cut or "
                "decode it, and the carrier would reject the login.")
        return password

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auth_mode") == Carrier.AuthMode.CREDENTIALS:
            for name in ("username", "password"):
                if name in cleaned and not cleaned.get(name):
                    self.add_error(name, "Required when the carrier authenticates with a "
                                         "username and password.")
        elif cleaned.get("register"):
            self.add_error("register", "Registering needs a username and password: choose "
                                       "'Username and password' authentication.")
        if cleaned.get("auth_mode") == Carrier.AuthMode.IP and cleaned.get("host"):
            self.warnings += address_clash_warnings(cleaned["host"])
        return cleaned


def address_clash_warnings(host: str) -> list[str]:
    """What goes wrong when a carrier matched by address shares it with phones."""
    phones = phones_registered_from(host)
    if not phones:
        return []
    return [f"Phones register from {host} ({', '.join(phones[:5])}"
            f"{', ...' if len(phones) > 5 else ''}). Asterisk identifies a request by its "
            "source address before its user name, so while this carrier is matched by IP "
            "address every REGISTER from there is taken for the carrier's and refused (404). "
            "Use 'Username and password' authentication for this carrier, or give it an "
            "address of its own."]
