"""Write paths for extensions (phones): create, update (its agent too), delete, bulk create (CSV
import and export: `phone_csv.py`).

Each runs in one transaction with the realtime rows (`Phone.save()` / `phones_sync_bulk`), so a
failure leaves neither a half-written phone nor half-written ps_* rows. Rules the database
cannot enforce everywhere (one active phone per user: MariaDB has no partial unique index) are
checked here, inside the transaction, with the user's row locked.
"""

from __future__ import annotations

import copy

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_bulk_record
from telephony.asterisk.values import secret_generate
from telephony.models import AsteriskServer, Phone, PsEndpoint
from telephony.models.phones import DEFAULT_CODECS, DEFAULT_TRANSPORT
from telephony.realtime.phones import phones_sync_bulk
from telephony.realtime.rows import chunks
from telephony.services.errors import ServiceError
from users.models import User
from users.roles import AGENT, is_agent

MAX_BULK = 10_000
# What an admin may change on a phone (the form shows these; the secret has its own rules).
EDITABLE_FIELDS = ("extension", "name", "server", "context", "codecs", "transport",
                   "max_contacts", "caller_id_name", "caller_id_number", "user", "is_active")
CHUNK = 1000  # ids per IN (...) and objects per bulk statement


class PhoneError(ServiceError):
    """A phone change refused for a reason the admin can fix; `field` names the form field."""

    code = "phone_refused"


class BulkCollisionError(PhoneError):
    code = "extensions_exist"

    def __init__(self, collisions: list[str]):
        self.collisions = collisions
        shown = ", ".join(collisions[:20]) + (" ..." if len(collisions) > 20 else "")
        super().__init__(f"{len(collisions)} extension(s) in this range already exist: {shown}",
                         field="start")


# --- single phones -----------------------------------------------------------------------

def _check_assignable(user: User | None, *, phone_pk: int | None, active: bool) -> None:
    """A user gets a phone only with the Agent role and at most one active phone."""
    if user is None:
        return
    # Lock the user so two admins assigning phones to the same agent at once are serialized.
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active or not is_agent(locked):
        raise PhoneError(f"{user.username} is not an active user with the Agent role.",
                         field="user")
    if active:
        taken = (Phone.objects.filter(user=locked, is_active=True).exclude(pk=phone_pk)
                 .values_list("extension", flat=True).first())
        if taken:
            raise PhoneError(f"{user.username} already has active extension {taken}; a user "
                             "has at most one active phone.", field="user")


def _check_extension_free(extension: str, *, phone_pk: int | None) -> None:
    if Phone.objects.filter(extension=extension).exclude(pk=phone_pk).exists():
        raise PhoneError(f"Extension {extension} already exists.", field="extension")
    if not Phone.objects.filter(pk=phone_pk, extension=extension).exists() and \
            PsEndpoint.objects.filter(id=extension).exists():
        # A row no phone owns (a hand-made endpoint): never overwrite it silently.
        raise PhoneError(f"Asterisk already has an endpoint named {extension} in ps_endpoints "
                         "that no extension owns; remove it first.", field="extension")


def phone_create(*, extension: str, name: str, server: AsteriskServer, context: str = "agents",
                 codecs: str = DEFAULT_CODECS, transport: str = DEFAULT_TRANSPORT,
                 max_contacts: int = 1, caller_id_name: str = "", caller_id_number: str = "",
                 user: User | None = None, is_active: bool = True, secret: str = "") -> Phone:
    with transaction.atomic():
        _check_extension_free(extension, phone_pk=None)
        _check_assignable(user, phone_pk=None, active=is_active)
        phone = Phone(extension=extension, name=name, server=server, context=context,
                      codecs=codecs, transport=transport, max_contacts=max_contacts,
                      caller_id_name=caller_id_name, caller_id_number=caller_id_number,
                      user=user, is_active=is_active, secret=secret or secret_generate())
        phone.save()
    return phone


def phone_update(*, phone: Phone, secret: str = "", regenerate_secret: bool = False,
                 **changes) -> Phone:
    """Change a phone; a blank `secret` keeps the current one. Renames and (de)activation move
    the realtime rows with it (see `Phone.save()`)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"phone_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        extension = changes.get("extension", phone.extension)
        if extension != phone.extension:
            _check_extension_free(extension, phone_pk=phone.pk)
        _check_assignable(changes.get("user", phone.user), phone_pk=phone.pk,
                          active=changes.get("is_active", phone.is_active))
        for name, value in changes.items():
            setattr(phone, name, value)
        if secret:
            phone.secret = secret
        elif regenerate_secret:
            phone.secret = secret_generate()
        phone.save()
    return phone


def phone_delete(*, phone: Phone) -> None:
    """Delete the phone with its ps_* rows and the ps_contacts Asterisk leaves behind."""
    phone.delete()


# --- bulk create ---------------------------------------------------------------------------

def extension_range(start: str, end: str) -> list[str]:
    """`0100`..`0199` keeps its leading zeros: numbers are padded to the first one's width."""
    width = len(start)
    return [str(number).zfill(width) for number in range(int(start), int(end) + 1)]


def phone_bulk_collisions(*, extensions: list[str]) -> list[str]:
    """Extensions of the list that already exist as phones or as endpoints nobody owns."""
    taken: set[str] = set()
    for offset in range(0, len(extensions), CHUNK):
        chunk = extensions[offset:offset + CHUNK]
        taken.update(Phone.objects.filter(extension__in=chunk).values_list("extension", flat=True))
        taken.update(PsEndpoint.objects.filter(id__in=chunk).values_list("id", flat=True))
    return [extension for extension in extensions if extension in taken]


def phone_bulk_create(*, start: str, end: str, name_pattern: str, server: AsteriskServer,
                      context: str = "agents", codecs: str = DEFAULT_CODECS,
                      transport: str = DEFAULT_TRANSPORT, max_contacts: int = 1) -> list[Phone]:
    """Create every extension from `start` to `end`, or none of them.

    Refuses (BulkCollisionError, nothing written) when any already exists. Phones go in with
    bulk_create and their realtime rows with `phones_sync_bulk`: a few queries per thousand.
    """
    extensions = extension_range(start, end)
    if not extensions or len(extensions) > MAX_BULK:
        raise PhoneError(f"A bulk create makes 1 to {MAX_BULK:,} extensions.", field="end")
    with transaction.atomic():
        collisions = phone_bulk_collisions(extensions=extensions)
        if collisions:
            raise BulkCollisionError(collisions)
        phones = [
            Phone(extension=extension, name=name_pattern.replace("{ext}", extension),
                  server=server, context=context, codecs=codecs, transport=transport,
                  max_contacts=max_contacts, secret=secret_generate())
            for extension in extensions
        ]
        for phone in phones:
            # bulk_create skips save(): run what the model's clean() would refuse.
            phone.clean_fields(exclude=["server", "user", "secret"])
        Phone.objects.bulk_create(phones, batch_size=CHUNK)
        phones_sync_bulk(phones)
        audit_bulk_record(changes=[(None, phone) for phone in phones],
                          action=LogEntry.Action.CREATE, note="bulk create")
    return phones


# --- bulk changes to a selection -------------------------------------------------------------
# A selection is the ticked rows of a page (at most MAX_SELECTION ids) or every extension
# matching the list's filter (services/phone_selection.py: 15,000 is normal). Each change runs
# set-based, CHUNK phones per statement, in ONE transaction, with the same rows and rules as the
# single-phone path: deactivating removes exactly what the edit form's "active" checkbox removes
# (`phones_sync_bulk` writes the rows `Phone.save()` writes), one refused phone (an agent who
# would get a second active phone) leaves all of them as they were, and every changed phone gets
# its audit entry. `phone_update` per phone took about 10 queries each: 15,000 did not fit in a
# web request.

MAX_SELECTION = 1000


def _selection(phones) -> list[Phone]:
    """The phones, read now (a queryset is evaluated inside the caller's transaction)."""
    if isinstance(phones, QuerySet):
        phones = phones.select_related(None).order_by("extension")
    phones = list(phones)
    if not phones:
        raise PhoneError("Select at least one extension first.", field="ids")
    return phones


def _bulk_update(changed: list[tuple[Phone, Phone]], fields: dict, note: str) -> None:
    """Write `fields` on the (before, after) phones, CHUNK per UPDATE, with their audit entries."""
    now = timezone.now()
    for chunk in chunks(changed, CHUNK):
        Phone.objects.filter(pk__in=[after.pk for _, after in chunk]).update(
            updated_at=now, **fields)
        for _, after in chunk:
            after.updated_at = now
        audit_bulk_record(changes=chunk, action=LogEntry.Action.UPDATE, note=note,
                          fields=[name.removesuffix("_id") for name in fields])


def _changes(phones: list[Phone], **fields) -> list[tuple[Phone, Phone]]:
    """(before, after) for each phone that `fields` would change."""
    pairs = []
    for phone in phones:
        if any(getattr(phone, name) != value for name, value in fields.items()):
            before = copy.copy(phone)
            for name, value in fields.items():
                setattr(phone, name, value)
            pairs.append((before, phone))
    return pairs


def _check_bulk_activation(phones: list[Phone]) -> None:
    """`_check_assignable` for many phones becoming active: their agents' rows locked, each an
    active Agent, none left with two active phones (one already active, or two in `phones`)."""
    by_user: dict[int, list[Phone]] = {}
    for phone in phones:
        if phone.user_id is not None:
            by_user.setdefault(phone.user_id, []).append(phone)
    if not by_user:
        return
    users: dict[int, User] = {}
    for ids in chunks(list(by_user), CHUNK):
        users.update((user.pk, user) for user in
                     User.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    agents: set[int] = set()
    for ids in chunks(list(by_user), CHUNK):
        agents.update(User.objects.filter(pk__in=ids, is_active=True, groups__name=AGENT)
                      .values_list("pk", flat=True))
    selected = {phone.pk for phone in phones}
    taken: dict[int, str] = {}
    for ids in chunks(list(by_user), CHUNK):
        for user_id, extension in (Phone.objects.filter(user_id__in=ids, is_active=True)
                                   .exclude(pk__in=selected).values_list("user_id", "extension")
                                   .order_by("extension")):
            taken.setdefault(user_id, extension)
    for user_id, own in by_user.items():
        user = users[user_id]
        if user_id not in agents:
            raise PhoneError(f"{user.username} is not an active user with the Agent role "
                             f"(extension {own[0].extension}).", field="user")
        if user_id in taken:
            raise PhoneError(f"{user.username} already has active extension {taken[user_id]}; "
                             "a user has at most one active phone.", field="user")
        if len(own) > 1:
            raise PhoneError(f"{user.username} would get {len(own)} active phones ("
                             + ", ".join(phone.extension for phone in own[:5])
                             + "); a user has at most one active phone.", field="user")


def phone_bulk_move(*, phones, server: AsteriskServer) -> list[Phone]:
    """Assign every selected extension to `server`. The realtime rows do not name the server:
    every Asterisk reads the same tables, so only the phones change."""
    with transaction.atomic():
        phones = _selection(phones)
        _bulk_update(_changes(phones, server_id=server.pk), {"server_id": server.pk},
                     note=f"bulk assign to {server.name}")
    return phones


def phone_bulk_set_active(*, phones, active: bool) -> list[Phone]:
    """(De)activate every selected extension: deactivation removes ps_endpoints/ps_auths/
    ps_aors and the leftover ps_contacts, activation writes them again."""
    with transaction.atomic():
        phones = _selection(phones)
        changed = _changes(phones, is_active=active)
        if active:
            _check_bulk_activation([after for _, after in changed])
        _bulk_update(changed, {"is_active": active},
                     note="bulk activate" if active else "bulk deactivate")
        for chunk in chunks([after for _, after in changed], CHUNK):
            phones_sync_bulk(chunk)
    return phones


def phone_bulk_delete(*, phones) -> int:
    """Delete every selected extension with its realtime rows; returns how many went."""
    with transaction.atomic():
        phones = _selection(phones)
        for chunk in chunks(phones, CHUNK):
            audit_bulk_record(changes=[(phone, None) for phone in chunk],
                              action=LogEntry.Action.DELETE, note="bulk delete")
            # The entries are written above, in one statement per chunk: auditlog's own
            # signal would write them one by one. The queryset's delete() removes the
            # realtime rows (PhoneQuerySet.delete).
            with disable_auditlog():
                Phone.objects.filter(pk__in=[phone.pk for phone in chunk]).delete()
    return len(phones)


def phone_assign(*, user: User, phone: Phone | None) -> None:
    """Make `phone` the user's extension (None: none): the user's other active extension is
    released first, both through `phone_update`, in one transaction."""
    with transaction.atomic():
        for old in Phone.objects.filter(user=user, is_active=True).exclude(
                pk=phone.pk if phone else None):
            phone_update(phone=old, user=None)
        if phone is not None and phone.user_id != user.pk:
            if phone.user_id is not None:
                raise PhoneError(f"Extension {phone.extension} already belongs to "
                                 f"{phone.user.username}.", field="extension")
            phone_update(phone=phone, user=user)
