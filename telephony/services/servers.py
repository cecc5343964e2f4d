"""Write paths for Asterisk servers."""

from __future__ import annotations

from django.db import transaction

from telephony.models import AsteriskServer
from telephony.services.errors import ServiceError

_FIELDS = {"name", "host", "sip_bind", "sip_port", "ami_host", "ami_port", "ami_username",
           "ami_password", "ari_scheme", "ari_host", "ari_port", "ari_username", "ari_password",
           "ari_app", "odbc_dsn", "is_active", "default_caller_id"}
_PASSWORDS = ("ami_password", "ari_password")


class ServerInUseError(ServiceError):
    """The server still has extensions or carriers; the message says how many."""

    code = "server_in_use"
    status = 409


def _check_fields(values: dict) -> None:
    unknown = set(values) - _FIELDS
    if unknown:
        raise TypeError(f"unexpected server fields {sorted(unknown)}")


def server_create(**values) -> AsteriskServer:
    _check_fields(values)
    server = AsteriskServer(**values)
    server.save()
    return server


def server_update(*, server: AsteriskServer, **values) -> AsteriskServer:
    """Change a server; a blank password keeps the stored one. Changing how we reach AMI/ARI
    makes the last connection test meaningless, so its result is reset."""
    _check_fields(values)
    for password in _PASSWORDS:
        if password in values and not values[password]:
            del values[password]
    reach = {"ami_host", "ami_port", "ami_username", "ami_password", "ari_scheme", "ari_host",
             "ari_port", "ari_username", "ari_password"}
    if any(getattr(server, name) != value for name, value in values.items() if name in reach):
        server.connection_status = AsteriskServer.Status.UNKNOWN
        server.connection_message = "Connection settings changed; test the connection again."
    for name, value in values.items():
        setattr(server, name, value)
    server.save()
    return server


def server_delete(*, server: AsteriskServer) -> None:
    """Delete a server no extension or carrier uses; otherwise refuse and say which."""
    with transaction.atomic():
        locked = AsteriskServer.objects.select_for_update().get(pk=server.pk)
        phones = locked.phones.count()
        carriers = locked.carriers.count()
        if phones or carriers:
            used = []
            if phones:
                used.append(f"{phones} extension(s)")
            if carriers:
                used.append(f"{carriers} carrier(s)")
            raise ServerInUseError(
                f"Server {server.name} is used by {' and '.join(used)}; move or delete them "
                "first.")
        locked.delete()
