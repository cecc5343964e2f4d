"""Refuse password guessing at the login page.

Agents often log in from shared networks, so the lock is per (username, address): a guesser
cannot lock a colleague out from another machine, and a correct password does not help while
locked, because a locked attempt is refused before any password is checked. A looser cap per
address across all usernames stops one machine spraying a common password over many names.

The counts live in the database (LoginFailure), because gunicorn runs several workers and each
would keep its own in-process cache. Each attempt writes its row *before* the check: with
check-then-record, a burst of parallel requests would all pass the check before any failure was
recorded. Written first, the (N+1)th row to commit sees N rows before it, whichever worker it
lands on, without a lock that SQLite, PostgreSQL and MariaDB would each spell differently.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from users.models import LoginFailure

logger = logging.getLogger("users.security")

# Where an address cannot be read (a misconfigured proxy, a unix socket): such clients share
# one bucket, which errs on the side of locking rather than of never counting.
UNKNOWN_IP = "0.0.0.0"


@dataclass(frozen=True)
class LoginAttempt:
    username: str  # the throttle's key, see username_key
    ip: str
    wait_minutes: int = 0  # above 0: refused, try again in that many minutes

    @property
    def refused(self) -> bool:
        return self.wait_minutes > 0


def username_key(username: str) -> str:
    """The name as the login form will read it (stripped, NFKC), compared case-insensitively.

    Without the same normalisation as Django's UsernameField, "ｂｏｂ" (full-width) or " bob"
    would log in as bob while being counted as a different name.
    """
    return unicodedata.normalize("NFKC", username.strip()).strip().casefold()[:150]


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the outermost of TRUSTED_PROXY_COUNT proxies saw.

    X-Forwarded-For is only as trustworthy as the proxy that wrote it: a client can send the
    header itself, so without a proxy that appends to it, reading it would let every guess
    claim a fresh address. Each proxy appends the address it received from, so with N trusted
    proxies the client is the N-th entry from the right; anything left of it is client-supplied.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= proxies and _parse_ip(hops[-proxies]):
            return _parse_ip(hops[-proxies])
    return _parse_ip(remote) or UNKNOWN_IP


def _parse_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _locked_until(failures: QuerySet, limit: int) -> datetime | None:
    """With `limit` or more recent failures, the time the limit-th newest ages out, else None."""
    nth = list(failures.order_by("-at").values_list("at", flat=True)[limit - 1:limit])
    return nth[0] + _window() if nth else None


def login_attempt_start(*, username: str, ip: str) -> LoginAttempt:
    """Record an attempt as a failure before its password is checked, or refuse it.

    A refused attempt leaves no row, so hammering a locked name does not extend its lock and
    the table holds at most a window's worth of failures that were really checked.
    """
    key = username_key(username)
    now = timezone.now()
    # Pruning on every attempt keeps the table to one window without a scheduled job.
    LoginFailure.objects.filter(at__lt=now - _window()).delete()
    row = LoginFailure.objects.create(username=key, ip=ip, at=now)
    earlier = LoginFailure.objects.filter(ip=ip, at__gte=now - _window()).exclude(pk=row.pk)
    limits = [
        _locked_until(earlier.filter(username=key), settings.LOGIN_MAX_FAILURES),
        _locked_until(earlier, settings.LOGIN_MAX_FAILURES_PER_IP),
    ]
    until = max((limit for limit in limits if limit), default=None)
    if until is None:
        return LoginAttempt(username=key, ip=ip)
    row.delete()
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return LoginAttempt(username=key, ip=ip, wait_minutes=minutes)


def login_attempt_failed(attempt: LoginAttempt) -> None:
    """The password was wrong: the row stays. Log when this failure is the one that locks."""
    recent = LoginFailure.objects.filter(ip=attempt.ip, at__gte=timezone.now() - _window())
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    # %r, not %s: the name is whatever was typed, and must not forge log lines.
    if recent.filter(username=attempt.username).count() == settings.LOGIN_MAX_FAILURES:
        logger.warning("Login locked for username %r from %s: %d failures within %d minutes",
                       attempt.username, attempt.ip, settings.LOGIN_MAX_FAILURES, minutes)
    if recent.count() == settings.LOGIN_MAX_FAILURES_PER_IP:
        logger.warning("Login locked for every username from %s: %d failures within %d minutes",
                       attempt.ip, settings.LOGIN_MAX_FAILURES_PER_IP, minutes)


def login_attempt_succeeded(attempt: LoginAttempt) -> None:
    """Clear this name's failures from this address, the attempt's own row included."""
    LoginFailure.objects.filter(username=attempt.username, ip=attempt.ip).delete()


@dataclass(frozen=True)
class LockoutSummary:
    ip: str
    failures: int
    last: datetime
    locked: bool


def login_failures_of(username: str) -> list[LockoutSummary]:
    """A user's recent failures, per address, for the admin's user page."""
    rows = (LoginFailure.objects
            .filter(username=username_key(username), at__gte=timezone.now() - _window())
            .values("ip").annotate(failures=Count("id"), last=Max("at")).order_by("ip"))
    return [LockoutSummary(ip=row["ip"], failures=row["failures"], last=row["last"],
                           locked=row["failures"] >= settings.LOGIN_MAX_FAILURES)
            for row in rows]


def login_failures_clear(*, username: str) -> int:
    """Lift a user's lockouts from every address (not a per-address cap across all names)."""
    deleted, _ = LoginFailure.objects.filter(username=username_key(username)).delete()
    return deleted


def login_locked_usernames(usernames) -> set[str]:
    """Which of `usernames` are locked out right now from some address, in ONE query (the
    users list marks them). Returned as given, not as throttle keys."""
    keys = {username_key(name): name for name in usernames}
    if not keys:
        return set()
    locked = (LoginFailure.objects
              .filter(username__in=list(keys), at__gte=timezone.now() - _window())
              .values("username", "ip").annotate(failures=Count("id"))
              .filter(failures__gte=settings.LOGIN_MAX_FAILURES)
              .values_list("username", flat=True))
    return {keys[key] for key in locked}
