"""Carrier (SIP trunk) write paths. `Carrier.save()` and `delete()` write and remove the realtime
rows in the same transaction as the carrier itself (telephony/realtime/carriers.py).

Asterisk reads a carrier's endpoint, AOR and auth rows on every request, but its outbound
registrations only when res_pjsip_outbound_registration loads: after a registering carrier is
saved or deleted, its server is asked to reload that module over AMI (issue #12, defect 2).
That happens after the commit (Asterisk reads the rows over its own connection). If Asterisk
cannot be asked, the change stands and `carrier.warnings` (a list of texts; delete returns it)
says what to do instead.
"""

from __future__ import annotations

from django.db import transaction

from telephony.asterisk.ami import AmiClient, AmiError
from telephony.models.carriers import Carrier
from telephony.models.servers import AsteriskServer
from telephony.services.asterisk import ami_config_for

OUTBOUND_REGISTRATION_MODULE = "res_pjsip_outbound_registration.so"

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


def _registers(carrier: Carrier) -> bool:
    """Has (or, saved, will have) a ps_registrations row."""
    return carrier.is_active and carrier.uses_credentials and carrier.register


def registrations_reload(server: AsteriskServer) -> list[str]:
    """Ask `server` to reload its outbound registrations; [] or the warning to show."""
    try:
        AmiClient(ami_config_for(server)).module_reload(OUTBOUND_REGISTRATION_MODULE)
    except AmiError as exc:
        return [f"Saved, but Asterisk ({server.name}) could not be asked to reload its outbound "
                f"registrations: {exc.message}. Until it is, it keeps registering as before: "
                f"run `module reload {OUTBOUND_REGISTRATION_MODULE}` on its CLI."]
    return []


def _reload_for(servers: list[AsteriskServer]) -> list[str]:
    warnings: list[str] = []
    for server in {server.pk: server for server in servers}.values():
        warnings += registrations_reload(server)
    return warnings


def carrier_create(**values) -> Carrier:
    """Raises ValidationError (nothing written) for a value the form would refuse."""
    carrier = Carrier()
    _set(carrier, values)
    carrier.save()  # writes the realtime rows in the same transaction
    carrier.warnings = _reload_for([carrier.server]) if _registers(carrier) else []
    return carrier


def carrier_update(*, carrier: Carrier, **values) -> Carrier:
    """Change a carrier; its rows are rewritten, moved (new slug) or removed (deactivated)."""
    with transaction.atomic():
        before = Carrier.objects.select_related("server").filter(pk=carrier.pk).first()
        _set(carrier, values)
        carrier.save()
    servers = [c.server for c in (before, carrier) if c is not None and _registers(c)]
    carrier.warnings = _reload_for(servers)
    return carrier


def carrier_delete(*, carrier: Carrier) -> list[str]:
    """Delete the carrier and its rows; returns warnings (see the module docstring)."""
    registered = _registers(carrier)
    carrier.delete()  # removes the realtime rows in the same transaction
    return _reload_for([carrier.server]) if registered else []
