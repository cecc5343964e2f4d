"""One row of a phones CSV file, validated and converted on its own; the import service
(`telephony/services/phone_csv.py`) resolves server and user names and conflicts."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from telephony.asterisk.values import codecs_problem, secret_problem
from telephony.forms.common import known_contexts, known_transports
from telephony.validators import (
    caller_id_number_validator,
    display_name_validator,
    extension_validator,
)


class PhoneCsvRowForm(forms.Form):
    """One CSV row's own values; the import service resolves server/user names and conflicts."""

    extension = forms.CharField(validators=[extension_validator])
    name = forms.CharField(max_length=80, validators=[display_name_validator])
    server = forms.CharField(max_length=100)
    context = forms.CharField(max_length=40, required=False)
    codecs = forms.CharField(max_length=200, required=False)
    transport = forms.CharField(max_length=40, required=False)
    max_contacts = forms.IntegerField(required=False,
                                      validators=[MinValueValidator(1), MaxValueValidator(20)])
    caller_id_name = forms.CharField(max_length=40, required=False,
                                     validators=[display_name_validator])
    caller_id_number = forms.CharField(max_length=21, required=False,
                                       validators=[caller_id_number_validator])
    user = forms.CharField(max_length=150, required=False)
    active = forms.CharField(required=False)
    secret = forms.CharField(max_length=64, required=False, strip=False)

    TRUE = {"yes", "y", "true", "1", "active"}
    FALSE = {"no", "n", "false", "0", "inactive"}

    def __init__(self, *args, contexts: list[str] | None = None,
                 transports: list[str] | None = None, **kwargs):
        # The import passes the lists once for the whole file instead of a query per row.
        super().__init__(*args, **kwargs)
        self.contexts = known_contexts() if contexts is None else contexts
        self.transports = known_transports() if transports is None else transports

    def clean_context(self) -> str:
        return self._one_of(self.cleaned_data["context"], self.contexts, "dialplan context")

    def clean_transport(self) -> str:
        return self._one_of(self.cleaned_data["transport"], self.transports, "transport")

    @staticmethod
    def _one_of(value: str, names: list[str], kind: str) -> str:
        if value and value not in names:
            raise forms.ValidationError(f"{value!r} is not a {kind} Asterisk has; use one of "
                                        f"{', '.join(names)}.")
        return value

    def clean_codecs(self) -> str:
        raw = self.cleaned_data["codecs"]
        if ";" in raw:
            raise forms.ValidationError("Separate codecs with ',' or '|', never ';'.")
        codecs = [codec.strip().lower() for codec in raw.replace("|", ",").split(",")]
        codecs = [codec for codec in codecs if codec]
        if not codecs:
            return ""
        if problem := codecs_problem(codecs):
            raise forms.ValidationError(problem)
        return ",".join(codecs)

    def clean_active(self) -> bool | None:
        raw = self.cleaned_data["active"].strip().lower()
        if not raw:
            return None
        if raw in self.TRUE:
            return True
        if raw in self.FALSE:
            return False
        raise forms.ValidationError("Use yes or no.")

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if secret and (problem := secret_problem(secret)):
            raise forms.ValidationError(problem)
        return secret
