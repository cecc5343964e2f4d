"""Small pieces several telephony forms share."""

from django import forms

from telephony.models import AsteriskServer


def preselect_only_server(field: forms.ModelChoiceField) -> None:
    """Most call centres run one Asterisk server: choose it instead of showing '---------'."""
    field.queryset = AsteriskServer.objects.order_by("name")
    active = list(AsteriskServer.objects.filter(is_active=True).values_list("pk", flat=True)[:2])
    if len(active) == 1:
        field.initial = active[0]
