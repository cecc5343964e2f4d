"""run_dialer's heartbeat (DialerWorker rows): written once a second by each worker, removed
when it stops cleanly; a worker killed or hung stops writing, and after STALE_SECONDS it no
longer counts as running."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from telephony.models import DialerWorker

# A tick is 1 s; a worker busy with a slow database or a slow Asterisk can miss a few.
STALE_SECONDS = 10


def worker_heartbeat(*, name: str, started_at: datetime, servers_up: dict[int, bool],
                     now: datetime | None = None) -> None:
    now = now or timezone.now()
    DialerWorker.objects.update_or_create(
        name=name[:64], defaults={"started_at": started_at, "last_seen_at": now,
                                  "servers_up": {str(pk): bool(up)
                                                 for pk, up in servers_up.items()}})


def worker_gone(name: str) -> None:
    DialerWorker.objects.filter(name=name[:64]).delete()


def workers_alive(now: datetime | None = None) -> list[DialerWorker]:
    now = now or timezone.now()
    return list(DialerWorker.objects.filter(
        last_seen_at__gte=now - timedelta(seconds=STALE_SECONDS)))
