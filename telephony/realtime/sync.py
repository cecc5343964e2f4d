"""Rewrite every realtime row from what the app holds, and find rows nothing owns.

Used by `setup_asterisk_realtime --sync-existing` after a restore, a manual edit of the tables
or an upgrade. Idempotent: running it twice writes the same rows. Each family's rows come from
its own module (phones, carriers, dialplan); this module only walks every owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from telephony.models import (
    Carrier,
    DialplanContext,
    Phone,
    PsAor,
    PsAuth,
    PsContact,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)
from telephony.realtime.carriers import carrier_object_ids, carrier_sync
from telephony.realtime.dialplan import dialplan_orphan_rows, dialplan_sync_context
from telephony.realtime.phones import phones_sync_bulk


@dataclass
class SyncReport:
    phones: int = 0
    carriers: int = 0
    contexts: int = 0
    rows: int = 0
    orphans: list[tuple[str, str]] = field(default_factory=list)


def carriers_sync_all() -> tuple[int, int]:
    """Rewrite every active carrier's rows and remove inactive ones'; returns (active carriers,
    rows written). Trunk rows no carrier owns are left for `realtime_orphans` to report."""
    carriers = rows = 0
    with transaction.atomic():
        for carrier in Carrier.objects.all():
            rows += carrier_sync(carrier)
            carriers += carrier.is_active
    return carriers, rows


def dialplan_sync_all() -> tuple[int, int]:
    """Rewrite the rows of every context the UI manages; returns (contexts, rows written).

    Rows of contexts the UI does not know are left alone (see `dialplan_orphan_rows`).
    """
    contexts = written = 0
    with transaction.atomic():
        for context in DialplanContext.objects.all():
            written += dialplan_sync_context(context)
            contexts += 1
    return contexts, written


def _owned_ids() -> set[str]:
    owned = set(Phone.objects.filter(is_active=True).values_list("extension", flat=True))
    for carrier in Carrier.objects.filter(is_active=True):
        owned.update(carrier_object_ids(carrier))
    return owned


def realtime_orphans() -> list[tuple[str, str]]:
    """(table, id) of realtime rows that no active phone, carrier or dialplan context owns."""
    owned = _owned_ids()
    orphans: list[tuple[str, str]] = []
    for model in (PsEndpoint, PsAuth, PsAor, PsRegistration, PsEndpointIdIp):
        ids = model.objects.exclude(id__in=owned).values_list("id", flat=True).order_by("id")
        orphans += [(model._meta.db_table, ident) for ident in ids]
    contacts = PsContact.objects.exclude(endpoint__in=owned).values_list("id", flat=True)
    orphans += [("ps_contacts", ident) for ident in contacts.order_by("id")]
    rows = dialplan_orphan_rows().values_list("context", "exten", "priority")
    orphans += [("extensions_table", f"{c},{e},{p}") for c, e, p in rows]
    return orphans


def _prune(orphans: list[tuple[str, str]]) -> None:
    by_table: dict[str, list[str]] = {}
    for table, ident in orphans:
        by_table.setdefault(table, []).append(ident)
    for model in (PsEndpoint, PsAuth, PsAor, PsRegistration, PsEndpointIdIp, PsContact):
        ids = by_table.get(model._meta.db_table)
        if ids:
            model.objects.filter(id__in=ids).delete()
    if by_table.get("extensions_table"):
        dialplan_orphan_rows().delete()
    # Asterisk leaves contacts behind when their endpoint goes: remove those too.
    PsContact.objects.exclude(endpoint__in=PsEndpoint.objects.values("id")).delete()


@transaction.atomic
def realtime_sync_all(*, prune: bool = False) -> SyncReport:
    report = SyncReport()
    phones = list(Phone.objects.filter(is_active=True).select_related("server"))
    report.rows += phones_sync_bulk(phones)
    report.phones = len(phones)
    report.carriers, carrier_rows = carriers_sync_all()
    report.rows += carrier_rows
    report.contexts, dialplan_rows = dialplan_sync_all()
    report.rows += dialplan_rows
    report.orphans = realtime_orphans()
    if prune and report.orphans:
        _prune(report.orphans)
    return report
