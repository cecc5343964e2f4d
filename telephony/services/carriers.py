"""Carrier (SIP trunk) write paths. `Carrier.save()` and `delete()` write and remove the realtime
rows in the same transaction as the carrier itself (telephony/realtime/carriers.py)."""

from __future__ import annotations

from django.db import transaction

from telephony.models.carriers import Carrier

# Fields the forms and callers may set; everything else is bookkeeping.
EDITABLE_FIELDS = (
    "name", "slug", "server", "host", "port", "transport", "auth_mode", "username", "password",
    "register", "from_user", "from_domain", "codecs", "number_format", "country_code",
    "national_prefix", "international_prefix", "dial_prefix", "strip_digits",
    "caller_id_number", "max_channels", "is_active", "order",
)


def _set(carrier: Carrier, values: dict) -> None:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not carrier fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(carrier, name, value)
    if carrier.auth_mode == Carrier.AuthMode.IP:
        # IP-only trunks neither authenticate nor register: keep no credentials around.
        carrier.username = carrier.password = ""
        carrier.register = False
    # Callers other than the form (scripts, the shell, a future API) get the same checks: a
    # value that fits the carrier row but not its realtime column is refused here, by name.
    carrier.full_clean()


def carrier_create(**values) -> Carrier:
    """Raises ValidationError (nothing written) for a value the form would refuse."""
    carrier = Carrier()
    _set(carrier, values)
    carrier.save()  # writes the realtime rows in the same transaction
    return carrier


def carrier_update(*, carrier: Carrier, **values) -> Carrier:
    """Change a carrier; its rows are rewritten, moved (new slug) or removed (deactivated)."""
    with transaction.atomic():
        _set(carrier, values)
        carrier.save()
    return carrier


def carrier_delete(*, carrier: Carrier) -> None:
    carrier.delete()  # removes the realtime rows in the same transaction
