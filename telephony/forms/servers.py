"""The Asterisk server form. Passwords are never rendered back into the page; on edit a blank
password field keeps the stored one."""

from __future__ import annotations

from django import forms

from telephony.models import AsteriskServer
from telephony.validators import safe_text_validator

PASSWORD_FIELDS = ("ami_password", "ari_password")


class AsteriskServerForm(forms.ModelForm):
    class Meta:
        model = AsteriskServer
        fields = ["name", "host", "sip_bind", "sip_port", "default_caller_id", "ami_host",
                  "ami_port", "ami_username",
                  "ami_password", "ari_scheme", "ari_host", "ari_port", "ari_username",
                  "ari_password", "ari_app", "odbc_dsn", "is_active"]
        widgets = {
            field: forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            for field in PASSWORD_FIELDS
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].validators.append(safe_text_validator)
        editing = self.instance.pk is not None
        for field in PASSWORD_FIELDS:
            self.fields[field].strip = False
            if editing:
                self.fields[field].required = False
                self.fields[field].help_text = "Leave blank to keep the stored password."

    def _clean_password(self, field: str) -> str:
        value = self.cleaned_data.get(field) or ""
        if not value and self.instance.pk is not None:
            # Read the stored value from the database: the bound instance is the one being edited.
            return AsteriskServer.objects.values_list(field, flat=True).get(pk=self.instance.pk)
        return value

    def clean_ami_password(self) -> str:
        return self._clean_password("ami_password")

    def clean_ari_password(self) -> str:
        return self._clean_password("ari_password")
