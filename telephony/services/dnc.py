"""Do-not-call lists: add, remove, import and export numbers (E.164, with when/who/why).

Adding a number also moves the matching leads (of that campaign, or of every campaign for
the global list) to the DNC state at once, so a lead already claimed by the dialer is not
dialled either (lead_callable checks the lists too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from telephony.calling.numbers import NumberError, number_parse
from telephony.csvcells import defuse, restore
from telephony.models import Campaign, DncEntry, Lead
from telephony.services.campaign_errors import CampaignServiceError

DNC_CSV_COLUMNS = ["number", "scope", "reason", "source", "added_by", "added_at"]
MAX_DNC_IMPORT_ROWS = 200_000


def dnc_normalize(raw: object, *, region: str | None = None) -> str:
    if not isinstance(raw, str):
        raise CampaignServiceError("Enter a phone number.", field="number")
    try:
        return number_parse(raw, region=region or settings.PHONE_DEFAULT_REGION,
                            with_details=False).e164
    except NumberError as exc:
        raise CampaignServiceError(str(exc), field="number") from None


def _mark_leads(numbers: list[str], campaign: Campaign | None) -> int:
    leads = Lead.objects.filter(phone_number__in=numbers).exclude(
        state__in=[Lead.State.DNC, Lead.State.FINAL])
    if campaign is not None:
        leads = leads.filter(campaign=campaign)
    return leads.update(state=Lead.State.DNC)


def dnc_add(*, number: object, campaign: Campaign | None = None, reason: str = "",
            source: str = DncEntry.Source.MANUAL, user: Any = None,
            region: str | None = None) -> tuple[DncEntry, bool]:
    """Put `number` on the campaign's list (None: the global list). Returns (entry, created);
    a number already listed keeps its first entry."""
    e164 = dnc_normalize(number, region=region)
    with transaction.atomic():
        if campaign is not None:
            # Serialises adds to one list: a global entry's NULL campaign is not covered by
            # the unique index, so the check-then-insert below must not race.
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        existing = DncEntry.objects.filter(number=e164, campaign=campaign).first()
        if existing is not None:
            return existing, False
        entry = DncEntry.objects.create(number=e164, campaign=campaign, reason=reason[:200],
                                        source=source, added_by=user)
        _mark_leads([e164], campaign)
    return entry, True


def dnc_remove(*, entry: DncEntry) -> None:
    """Take a number off a list. Its leads stay in the DNC state: put back by hand only."""
    entry.delete()


@dataclass
class DncImportResult:
    added: int = 0
    already_listed: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, value, reason


def _rows(upload: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    lines = (line.decode("utf-8-sig", errors="replace") for line in upload)
    reader = csv.reader(lines)
    for row in reader:
        if not row or not row[0].strip():
            continue
        yield reader.line_num, row[0]


def dnc_import(*, upload: Iterable[bytes], campaign: Campaign | None, reason: str = "",
               user: Any = None, region: str | None = None,
               dry_run: bool = False) -> DncImportResult:
    """Add the numbers of a CSV's first column (a header row is skipped) to one list, in one
    transaction. Every unreadable number is reported with its line; the rest are added."""
    result = DncImportResult()
    numbers: dict[str, int] = {}
    for line, raw in _rows(upload):
        value = restore(raw.strip())
        if line == 1 and not any(char.isdigit() for char in value):
            continue  # a header
        if len(numbers) + len(result.rejected) >= MAX_DNC_IMPORT_ROWS:
            raise CampaignServiceError(f"A DNC file may have at most {MAX_DNC_IMPORT_ROWS:,} "
                                       f"numbers; split it.")
        try:
            numbers.setdefault(dnc_normalize(value, region=region), line)
        except CampaignServiceError as exc:
            result.rejected.append((line, value[:80], exc.message))
    listed = set()
    for chunk in _chunks(list(numbers), 1000):
        listed.update(DncEntry.objects.filter(campaign=campaign, number__in=chunk)
                      .values_list("number", flat=True))
    new = [number for number in numbers if number not in listed]
    result.already_listed, result.added = len(listed), len(new)
    if dry_run:
        return result
    with transaction.atomic():
        if campaign is not None:
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        DncEntry.objects.bulk_create(
            [DncEntry(number=number, campaign=campaign, reason=reason[:200],
                      source=DncEntry.Source.IMPORT, added_by=user) for number in new],
            batch_size=1000)
        for chunk in _chunks(new, 1000):
            _mark_leads(chunk, campaign)
    return result


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def dnc_export(*, campaign: Campaign | None, include_global: bool = False) -> Iterator[str]:
    """CSV lines of a list (cells spreadsheet-safe), streamed."""
    entries = DncEntry.objects.select_related("campaign", "added_by").order_by("number")
    if campaign is None:
        entries = entries.filter(campaign__isnull=True)
    elif include_global:
        entries = entries.filter(campaign__isnull=True) | entries.filter(campaign=campaign)
    else:
        entries = entries.filter(campaign=campaign)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(DNC_CSV_COLUMNS)
    yield buffer.getvalue()
    for entry in entries.iterator(chunk_size=2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([defuse(entry.number), defuse(entry.campaign.name if entry.campaign else
                                              "global"),
                         defuse(entry.reason), entry.source,
                         defuse(entry.added_by.username if entry.added_by else ""),
                         entry.added_at.isoformat()])
        yield buffer.getvalue()
