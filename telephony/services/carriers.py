"""Carrier (SIP trunk) write paths. `Carrier.save()` and `delete()` write and remove the realtime
rows in the same transaction as the carrier itself (telephony/realtime/carriers.py).

Asterisk reads a carrier's endpoint, AOR and auth rows on every request, but it qualifies a
realtime AOR's contact only as res_pjsip last loaded it, and reads outbound registrations only
when res_pjsip_outbound_registration loads: after a carrier is saved or deleted, its server is
asked over AMI to reload res_pjsip, and the registration module when the carrier registers or
did (issue #12, defects 2 and 10).
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
# Qualify (OPTIONS) follows a realtime AOR only from when res_pjsip loaded it: a new trunk, a
# changed qualify or host, are qualified as saved only after this reload (issue #12, defect 10).
PJSIP_MODULE = "res_pjsip.so"

# Fields the forms and callers may set; everything else is bookkeeping.
EDITABLE_FIELDS = (
    "name", "slug", "server", "host", "port", "transport", "auth_mode", "username", "password",
    "register", "from_user", "from_domain", "codecs", "number_format", "country_code",
    "national_prefix", "international_prefix", "dial_prefix", "strip_digits",
    "caller_id_number", "qualify_frequency", "max_channels", "is_active", "order",
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


def carrier_asterisk_reload(server: AsteriskServer, *, registrations: bool) -> list[str]:
    """Ask `server` to reload res_pjsip (and, with `registrations`, its outbound
    registrations) on one AMI login; [] or the warning to show."""
    modules = [PJSIP_MODULE] + ([OUTBOUND_REGISTRATION_MODULE] if registrations else [])
    client = AmiClient(ami_config_for(server))
    try:
        with client.session():
            for module in modules:
                client.module_reload(module)
    except AmiError as exc:
        commands = " and ".join(f"`module reload {module}`" for module in modules)
        return [f"Saved, but Asterisk ({server.name}) could not be asked to apply the change: "
                f"{exc.message}. Until it is, it keeps qualifying"
                f"{' and registering' if registrations else ''} as before: run {commands} "
                "on its CLI."]
    return []


def carriers_asterisk_reload(carriers: list[Carrier | None]) -> list[str]:
    """After carriers were saved or deleted (by any path: the pages, the Django admin,
    `setup_asterisk_realtime --sync-existing`): one reload per server they are on, with the
    registration module where one registers or did; the warnings to show."""
    servers: dict[int, tuple[AsteriskServer, bool]] = {}
    for carrier in carriers:
        if carrier is None:
            continue
        server, registering = servers.get(carrier.server_id, (carrier.server, False))
        servers[carrier.server_id] = (server, registering or _registers(carrier))
    warnings: list[str] = []
    for server, registering in servers.values():
        warnings += carrier_asterisk_reload(server, registrations=registering)
    return warnings


def carrier_create(**values) -> Carrier:
    """Raises ValidationError (nothing written) for a value the form would refuse."""
    carrier = Carrier()
    _set(carrier, values)
    carrier.save()  # writes the realtime rows in the same transaction
    carrier.warnings = carriers_asterisk_reload([carrier])
    return carrier


def carrier_update(*, carrier: Carrier, **values) -> Carrier:
    """Change a carrier; its rows are rewritten, moved (new slug) or removed (deactivated)."""
    with transaction.atomic():
        before = Carrier.objects.select_related("server").filter(pk=carrier.pk).first()
        _set(carrier, values)
        carrier.save()
    carrier.warnings = carriers_asterisk_reload([before, carrier])
    return carrier


def carrier_delete(*, carrier: Carrier) -> list[str]:
    """Delete the carrier and its rows; returns warnings (see the module docstring)."""
    carrier.delete()  # removes the realtime rows in the same transaction
    return carriers_asterisk_reload([carrier])
