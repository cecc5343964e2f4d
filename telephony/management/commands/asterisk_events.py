"""The live event listener: one AMI connection per active Asterisk server, every call event
applied to the call log by `telephony.services.call_events.handle_event`.

    python manage.py asterisk_events

Runs until SIGTERM or SIGINT. Reconnecting with backoff (Asterisk restarts, network cuts) is
`listen_events`'s job; this module only wires servers to it, and re-reads the active servers
every 30 s so a server added or edited in the UI is followed without a restart, and fails
queued calls nothing ever reported on. After every login it catches the call log up with the
channels Asterisk has (services/call_reconcile.py): events sent while it was away are lost.
Run exactly one copy per deployment next to gunicorn
(docs/call-control.md has a systemd unit); a second copy would be harmless (every change is
idempotent), only wasteful.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from telephony.asterisk.ami import listen_events
from telephony.models import AsteriskServer
from telephony.services.asterisk import ami_config_for
from telephony.services.call_events import event_wanted, handle_event
from telephony.services.call_reconcile import server_reconcile
from telephony.services.calls import calls_expire_stale

logger = logging.getLogger(__name__)


def apply_event(server: AsteriskServer, event: dict[str, Any]) -> None:
    """One step, in a worker thread: what Django does around a request, around one event."""
    close_old_connections()  # a connection the database dropped while we were idle
    try:
        call = handle_event(server, event)
        if call is not None:
            logger.debug("%s %s: call %s is %s", server.name, event.get("Event"), call.pk,
                         call.status)
    finally:
        close_old_connections()


def reconcile(server: AsteriskServer) -> None:
    """After each login: catch up with what happened while we were not listening."""
    close_old_connections()
    try:
        changed = server_reconcile(server)
        if changed:
            logger.info("%s: %d call(s) caught up with Asterisk after reconnecting",
                        server.name, changed)
    finally:
        close_old_connections()


def _fingerprint(server: AsteriskServer) -> tuple:
    """What a running listener depends on: when it changes, the listener is restarted."""
    return (server.name, server.ami_host, server.ami_port, server.ami_username,
            server.ami_password)


async def listen(stop: asyncio.Event, servers: list[AsteriskServer] | None = None, *,
                 refresh: float = 30.0) -> None:
    """Follow `servers`, or every active server, until `stop` is set.

    Without `servers` the set is re-read every `refresh` seconds, so adding, editing or
    deactivating a server in the UI takes effect without restarting the worker.
    """
    apply = sync_to_async(apply_event, thread_sensitive=True)
    catch_up = sync_to_async(reconcile, thread_sensitive=True)

    async def on_event(server: AsteriskServer, event: dict[str, Any]) -> None:
        if event_wanted(event):  # most events are not about calls: no DB, no thread hop
            await apply(server, event)

    running: dict[int, tuple[tuple, asyncio.Event, asyncio.Task]] = {}

    def start(server: AsteriskServer) -> None:
        own_stop = asyncio.Event()
        task = asyncio.create_task(listen_events(
            ami_config_for(server), partial(on_event, server), stop=own_stop,
            on_connect=partial(catch_up, server)))
        running[server.pk] = (_fingerprint(server), own_stop, task)
        logger.info("Listening to AMI events of %s", server.name)

    async def halt(pk: int) -> None:
        _, own_stop, task = running.pop(pk)
        own_stop.set()
        await asyncio.gather(task, return_exceptions=True)

    try:
        while not stop.is_set():
            wanted = servers if servers is not None else await sync_to_async(list)(
                AsteriskServer.objects.filter(is_active=True))
            by_pk = {server.pk: server for server in wanted}
            for pk in [pk for pk, (fp, _, task) in running.items()
                       if pk not in by_pk or fp != _fingerprint(by_pk[pk]) or task.done()]:
                await halt(pk)
            for pk, server in by_pk.items():
                if pk not in running:
                    start(server)
            if not running:
                logger.warning("No active Asterisk server: nothing to listen to")
            await sync_to_async(calls_expire_stale, thread_sensitive=True)()
            if servers is not None:
                await stop.wait()
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=refresh)
            except TimeoutError:
                pass
    finally:
        for pk in list(running):
            await halt(pk)


class Command(BaseCommand):
    help = "Follow Asterisk's AMI events and keep the call log up to date (runs until stopped)."

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        names = await sync_to_async(list)(
            AsteriskServer.objects.filter(is_active=True).values_list("name", flat=True))
        self.stdout.write(f"Listening to AMI events of: {', '.join(names) or '(no server)'}")
        await listen(stop)
        self.stdout.write("Stopped.")
