"""Small pieces several telephony forms share."""

from django import forms
from django.conf import settings

from telephony.models import AsteriskServer


def preselect_only_server(field: forms.ModelChoiceField) -> None:
    """Most call centres run one Asterisk server: choose it instead of showing '---------'."""
    field.queryset = AsteriskServer.objects.order_by("name")
    active = list(AsteriskServer.objects.filter(is_active=True).values_list("pk", flat=True)[:2])
    if len(active) == 1:
        field.initial = active[0]


def known_contexts() -> list[str]:
    """The dialplan contexts Asterisk has: the Dialplan page's contexts and the ones the
    generated extensions.conf always defines (`agents`, and the carriers' inbound context)."""
    from telephony.models import DialplanContext
    from telephony.realtime.carriers import inbound_context

    names = {"agents", inbound_context()}
    names.update(DialplanContext.objects.values_list("name", flat=True))
    return sorted(names)


def known_transports() -> list[str]:
    """The PJSIP transports Asterisk has: the generated one(s) and those the operator declared."""
    from telephony.asterisk.confgen import GENERATED_TRANSPORTS

    extra = getattr(settings, "PJSIP_EXTRA_TRANSPORTS", [])
    return list(GENERATED_TRANSPORTS) + [name for name in extra if name not in GENERATED_TRANSPORTS]


def choices_with_current(names: list[str], current: str | None) -> list[tuple[str, str]]:
    """`names` as choices; a current value that is no longer among them stays selectable (so
    editing an old extension does not silently change it) and says so."""
    choices = [(name, name) for name in names]
    if current and current not in names:
        choices.append((current, f"{current} (not defined in Asterisk: choose another)"))
    return choices
