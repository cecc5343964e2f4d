"""Logins, logouts and failed logins in the same log as the changes (action ACCESS)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType

from users.login_throttle import UNKNOWN_IP, client_ip

LOGIN, LOGOUT, LOGIN_FAILED = "login", "logout", "login_failed"
EVENT_LABELS = {LOGIN: "Logged in", LOGOUT: "Logged out", LOGIN_FAILED: "Login failed"}


def auth_event_record(*, event: str, request, user=None, username: str = "") -> LogEntry:
    User = get_user_model()
    if user is None and username:
        # A failed login names a user who may not exist; link the row only when one does.
        user = User.objects.filter(username=username).first()
    ip = client_ip(request) if request is not None else None
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(User),
        object_pk=str(user.pk) if user else "",
        object_id=user.pk if user else None,
        object_repr=(user.get_username() if user else username)[:150],
        action=LogEntry.Action.ACCESS,
        actor=user if event != LOGIN_FAILED else None,
        remote_addr=ip if ip and ip != UNKNOWN_IP else None,
        additional_data={"event": event},
    )


def _logged_in(sender, request, user, **kwargs):
    auth_event_record(event=LOGIN, request=request, user=user)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        auth_event_record(event=LOGOUT, request=request, user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    auth_event_record(event=LOGIN_FAILED, request=request,
                      username=str(credentials.get("username", "")))


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
