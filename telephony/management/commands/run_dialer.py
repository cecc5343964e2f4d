"""The dialer worker: follows each active Asterisk server's ARI events (our Stasis
application) and applies them with `telephony.dialer.events.handle_event`.

    python manage.py run_dialer

Per server, one thread follows /ari/events (AriEvents.follow: bounded connect, reconnect with
backoff) and reconciles with GET /channels after every connect, since events sent while it was
away are lost. The main thread runs the housekeeping every 0.2 s: customers past the 2-second
grace hear the safe-harbor message and are hung up. Runs until SIGTERM or SIGINT, which set a
flag that every loop checks. Every change is idempotent, so a second copy is harmless.

Launching customer calls (claiming leads each second) joins this loop with the campaigns
module's lead models; until then the worker serves agent sessions and the calls in flight.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from telephony.asterisk.ari import AriClient, AriError, AriEvents
from telephony.dialer.events import event_wanted, handle_event, waiting_expire
from telephony.dialer.reconcile import dialer_reconcile
from telephony.models import AsteriskServer
from telephony.services.asterisk import ari_config_for

logger = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 0.2


def apply_event(server: AsteriskServer, event: dict[str, Any], ari: AriClient) -> bool:
    """One step: what Django does around a request, around one event. True if it was ours."""
    if not event_wanted(event):
        return False
    close_old_connections()
    try:
        handle_event(server, event, ari)
    finally:
        close_old_connections()
    return True


def housekeeping(server: AsteriskServer, ari: AriClient) -> int:
    close_old_connections()
    try:
        return waiting_expire(server, ari)
    finally:
        close_old_connections()


def follow_server(server: AsteriskServer, stop: threading.Event) -> None:
    """A server's event thread, until `stop`."""
    config = ari_config_for(server)
    ari = AriClient(config)

    def on_connect() -> None:
        close_old_connections()
        try:
            result = dialer_reconcile(server, ari)
            logger.info("%s: ARI events connected; reconciled %s", server.name, result)
        except AriError as exc:
            logger.warning("%s: cannot reconcile: %s", server.name, exc.message)
        finally:
            close_old_connections()

    def on_error(exc: AriError) -> None:
        logger.warning("%s: ARI events: %s", server.name, exc.message)

    try:
        for event in AriEvents(config).follow(stop=stop.is_set, on_connect=on_connect,
                                               on_error=on_error):
            try:
                apply_event(server, event, ari)
            except Exception:  # one bad event must not stop the server's stream
                logger.exception("%s: event %s failed", server.name, event.get("type"))
    finally:
        ari.close()
        connection.close()  # this thread's own database connection


class Command(BaseCommand):
    help = "Follow the ARI events of every active Asterisk server and run the dialer."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        servers = list(AsteriskServer.objects.filter(is_active=True))
        threads = [threading.Thread(target=follow_server, args=(server, stop),
                                    name=f"ari-{server.pk}", daemon=True)
                   for server in servers]
        for thread in threads:
            thread.start()
        clients = {server.pk: AriClient(ari_config_for(server)) for server in servers}
        self.stdout.write(f"run_dialer: following {len(servers)} server(s)")
        try:
            while not stop.is_set():
                for server in servers:
                    try:
                        housekeeping(server, clients[server.pk])
                    except Exception:
                        logger.exception("%s: housekeeping failed", server.name)
                stop.wait(HOUSEKEEPING_SECONDS)
        finally:
            stop.set()
            for thread in threads:
                thread.join(5)
            for client in clients.values():
                client.close()
