"""The call log's filter form: validates the query string and turns it into a queryset filter."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from autodialer.input import DATE_MAX, DATE_MIN, BadInput, date_in_range
from telephony.models import Call, Campaign
from users.roles import AGENT


class CallFilterForm(forms.Form):
    q = forms.CharField(label="Number", required=False, max_length=40,
                        widget=forms.TextInput(attrs={"placeholder": "Number contains",
                                                      "type": "search"}))
    status = forms.ChoiceField(required=False,
                               choices=[("", "Any status"), ("live", "Live now"),
                                        *Call.Status.choices])
    user = forms.ModelChoiceField(label="Agent", required=False, empty_label="Any agent",
                                  queryset=get_user_model().objects.none())
    campaign = forms.ModelChoiceField(required=False, empty_label="Any campaign",
                                      queryset=Campaign.objects.all())
    date_from = forms.DateField(label="From", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, sees_all: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sees_all:
            self.fields["user"].queryset = (
                get_user_model().objects
                .filter(Q(groups__name=AGENT) | Q(phones__isnull=False))
                .distinct().order_by("username"))
        else:  # agents see only their own calls: there is no one else to pick
            del self.fields["user"]
        for field in self.fields.values():
            field.widget.attrs["class"] = ("form-select" if isinstance(field.widget, forms.Select)
                                           else "form-control")

    def _clean_day(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None:
            try:
                date_in_range(value, name)
            except BadInput as error:  # 9999-12-31 plus one day does not exist
                raise forms.ValidationError(f"Enter a date from {DATE_MIN} to {DATE_MAX}.") \
                    from error
        return value

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filter(self, calls: QuerySet[Call]) -> QuerySet[Call]:
        data = self.cleaned_data
        if digits := "".join(char for char in data.get("q") or "" if char.isdigit()):
            calls = calls.filter(number__contains=digits)
        if data.get("status") == "live":
            calls = calls.filter(status__in=Call.LIVE_STATUSES)
        elif data.get("status"):
            calls = calls.filter(status=data["status"])
        if data.get("user"):
            calls = calls.filter(user=data["user"])
        if data.get("campaign"):
            calls = calls.filter(campaign=data["campaign"])
        # Days are the user's days (TIME_ZONE), not UTC's.
        if data.get("date_from"):
            calls = calls.filter(created_at__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            calls = calls.filter(created_at__lt=_day_start(data["date_to"] + timedelta(days=1)))
        return calls


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
