"""Forms of the Dialplan pages: they validate against Asterisk's syntax and convert, no more."""

from __future__ import annotations

from django import forms

from telephony.asterisk.dialplan_syntax import (
    APPLICATIONS,
    MAX_ARGUMENTS_LENGTH,
    canonical_application,
    validate_arguments,
    validate_context_name,
    validate_pattern,
)
from telephony.models.dialplan import DialplanContext
from telephony.services.dialplan import MAX_PRIORITY


class DialplanContextForm(forms.Form):
    name = forms.CharField(
        max_length=40,
        help_text="Letters, digits, '_' and '-'. Phones use the context named in their settings "
                  "(agents by default).")
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, instance: DialplanContext | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {"name": instance.name,
                                          "description": instance.description})
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = validate_context_name(self.cleaned_data["name"].strip())
        # MariaDB compares names case-insensitively (and so does Asterisk reading it), so
        # "Agents" and "agents" would be one context there: refuse it everywhere.
        clash = DialplanContext.objects.filter(name__iexact=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"There is already a context named {clash.first().name}.")
        return name


class DialplanRuleForm(forms.Form):
    pattern = forms.CharField(
        max_length=40, label="Extension or pattern",
        help_text="Digits (1001), a special extension (s, h, i, t) or a pattern starting with '_': "
                  "X any digit, Z 1-9, N 2-9, [1-5] a set, '.' one or more further characters.")
    priority = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PRIORITY,
        help_text="Leave empty to add the step after this pattern's last one; a number inserts "
                  "it there and moves the later steps down.")
    application = forms.CharField(
        max_length=40, widget=forms.TextInput(attrs={"list": "dialplan-applications",
                                                     "autocomplete": "off"}),
        help_text="An Asterisk application, e.g. Dial, Playback, Queue, Hangup.")
    arguments = forms.CharField(
        max_length=MAX_ARGUMENTS_LENGTH, required=False, strip=False,
        help_text="What goes between the parentheses, e.g. PJSIP/${EXTEN},30 (one line, "
                  "no ';').")

    applications = APPLICATIONS

    def clean_pattern(self) -> str:
        return validate_pattern(self.cleaned_data["pattern"])

    def clean_application(self) -> str:
        return canonical_application(self.cleaned_data["application"])

    def clean(self):
        cleaned = super().clean()
        arguments = cleaned.get("arguments", "")
        try:
            cleaned["arguments"] = validate_arguments(arguments,
                                                      cleaned.get("application", "")).strip(" ")
        except forms.ValidationError as error:
            self.add_error("arguments", error)
        return cleaned
