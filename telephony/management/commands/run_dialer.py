"""The dialer worker: follows each active Asterisk server's ARI events (our Stasis
application) and applies them with `telephony.dialer.events.handle_event`.

    python manage.py run_dialer

Per server, one thread follows /ari/events (AriEvents.follow: bounded connect, reconnect with
backoff) and reconciles with GET /channels after every connect, since events sent while it was
away are lost. The main thread runs the housekeeping every 0.2 s (customers past the 2-second
grace hear the safe-harbor message and are hung up) and, once a second, the wrap-up limit
(agents in wrap-up longer than their campaign allows become ready), the preview reservations
(`previews`: a lead for each ready agent of a preview campaign) and `dialer_launch`: for
each running progressive/predictive campaign the pacing policy decides how many customer calls
to start, and that many leads are claimed (SKIP LOCKED) and originated. Runs until SIGTERM or
SIGINT, which set a flag that every loop checks. Every RECONCILE_SECONDS it also reconciles each
server and gives back leads a dead worker claimed but never dialled (`leads_unstick`). Claims
and event handling are idempotent, so a second copy of the worker never dials a lead twice.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from telephony.asterisk.ari import AriClient, AriError, AriEvents
from telephony.dialer.events import event_wanted, handle_event, waiting_expire
from telephony.dialer.heartbeat import worker_gone, worker_heartbeat
from telephony.dialer.preview import previews_expire, previews_reserve
from telephony.dialer.reconcile import dialer_reconcile
from telephony.dialer.sessions import wrapups_expire
from telephony.dialer.worker import TickReport, dialer_tick, leads_unstick
from telephony.models import AsteriskServer
from telephony.services.asterisk import ari_config_for

logger = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 0.2
TICK_SECONDS = 1.0
# How often what a lost event would have told is checked against Asterisk (GET /channels) and
# leads claimed by a dead worker are given back.
RECONCILE_SECONDS = 15.0


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


def wrapups(now=None) -> int:
    """Agents past their campaign's wrap-up limit become ready (every server at once)."""
    close_old_connections()
    try:
        return wrapups_expire(now=now)
    finally:
        close_old_connections()


def previews(now=None) -> int:
    """Preview campaigns: give back reserved leads nobody dialled in time, then reserve a
    lead for every ready agent who has none (the agent dials it; the worker never does)."""
    close_old_connections()
    try:
        previews_expire(now=now)
        return previews_reserve(now=now)
    finally:
        close_old_connections()


def dialer_launch(clients: dict[int, AriClient], *, worker: str,
                  now: datetime | None = None,
                  events_up: dict[int, bool] | None = None) -> TickReport:
    """One launch step (the loop calls it once a second). `clients` holds one ARI client per
    server and gains one for a carrier's server the loop has not met yet. `events_up`: which
    servers' event streams are connected (run_dialer's threads keep it); no calls are
    launched on the others, whose answers nobody would see."""

    def ari_for(server: AsteriskServer) -> AriClient:
        if server.pk not in clients:
            clients[server.pk] = AriClient(ari_config_for(server))
        return clients[server.pk]

    close_old_connections()
    try:
        usable = None if events_up is None else (lambda pk: events_up.get(pk, False))
        return dialer_tick(worker=worker, ari_for=ari_for, now=now, server_usable=usable)
    finally:
        close_old_connections()


def heartbeat(*, worker: str, started_at: datetime, events_up: dict[int, bool]) -> None:
    """Say this worker is alive and which servers' events it has (the dialer page reads it)."""
    close_old_connections()
    try:
        worker_heartbeat(name=worker, started_at=started_at, servers_up=dict(events_up))
    finally:
        close_old_connections()


def recovery(servers: list[AsteriskServer], clients: dict[int, AriClient]) -> None:
    """The periodic part of crash safety: reconcile every server, give back stuck leads."""
    close_old_connections()
    try:
        for server in servers:
            try:
                result = dialer_reconcile(server, clients[server.pk])
                if result.attempts_closed or result.sessions_ended:
                    logger.info("%s: reconciled %s", server.name, result)
            except AriError as exc:
                logger.warning("%s: cannot reconcile: %s", server.name, exc.message)
        released = leads_unstick()
        if released:
            logger.info("gave back %s lead(s) claimed by a worker that stopped", released)
    finally:
        close_old_connections()


def follow_server(server: AsteriskServer, stop: threading.Event,
                  events_up: dict[int, bool] | None = None) -> None:
    """A server's event thread, until `stop`. It keeps `events_up[server.pk]`: True once
    connected and reconciled, False from the first error (one thread writes each key)."""
    events_up = {} if events_up is None else events_up
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
        events_up[server.pk] = True

    def on_error(exc: AriError) -> None:
        if events_up.get(server.pk, True):
            logger.warning("%s: ARI events: %s; no calls are launched there until they are "
                           "back", server.name, exc.message)
        events_up[server.pk] = False

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
        events_up: dict[int, bool] = {}
        threads = [threading.Thread(target=follow_server, args=(server, stop, events_up),
                                    name=f"ari-{server.pk}", daemon=True)
                   for server in servers]
        for thread in threads:
            thread.start()
        clients = {server.pk: AriClient(ari_config_for(server)) for server in servers}
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.stdout.write(f"run_dialer {worker}: following {len(servers)} server(s)")
        started_at = timezone.now()
        next_tick = 0.0
        next_recovery = time.monotonic() + RECONCILE_SECONDS
        try:
            while not stop.is_set():
                if time.monotonic() >= next_recovery:
                    next_recovery = time.monotonic() + RECONCILE_SECONDS
                    try:
                        recovery(servers, clients)
                    except Exception:
                        logger.exception("recovery failed")
                for server in servers:
                    try:
                        housekeeping(server, clients[server.pk])
                    except Exception:
                        logger.exception("%s: housekeeping failed", server.name)
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + TICK_SECONDS
                    try:
                        heartbeat(worker=worker, started_at=started_at, events_up=events_up)
                    except Exception:
                        logger.exception("heartbeat failed")
                    try:
                        wrapups()
                    except Exception:
                        logger.exception("wrap-up limit check failed")
                    try:
                        previews()
                    except Exception:
                        logger.exception("preview reservations failed")
                    try:
                        report = dialer_launch(clients, worker=worker, events_up=events_up)
                        if report.launched or report.failed:
                            logger.info("launched %s, failed %s", report.launched,
                                        report.failed)
                    except Exception:  # a bad tick must not stop the housekeeping
                        logger.exception("dialer tick failed")
                stop.wait(HOUSEKEEPING_SECONDS)
        finally:
            stop.set()
            for thread in threads:
                thread.join(5)
            for client in clients.values():
                client.close()
            try:
                close_old_connections()
                worker_gone(worker)  # a clean stop: the page says no worker, at once
            except Exception:
                logger.exception("could not remove this worker's heartbeat")
