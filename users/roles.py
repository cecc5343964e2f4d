"""Roles: the one place that decides what kind of user someone is.

Roles are auth groups created by a data migration. A superuser counts as Admin so
the first `createsuperuser` can do everything. Every view states its role with
`role_required(...)`; templates ask the same questions through `user_roles`.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

ADMIN = "Admin"
SUPERVISOR = "Supervisor"
AGENT = "Agent"
ROLES = (ADMIN, SUPERVISOR, AGENT)


def roles_of(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_autodialer_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            names.add(ADMIN)
        cached = frozenset(names)
        user._autodialer_roles = cached
    return cached


def is_supervisor(user) -> bool:
    """Supervisors see everyone's calls; admins can do whatever supervisors can."""
    return bool({ADMIN, SUPERVISOR} & roles_of(user))


def is_agent(user) -> bool:
    return AGENT in roles_of(user)


def primary_role(user) -> str | None:
    roles = roles_of(user)
    for role in ROLES:
        if role in roles:
            return role
    return None


def has_any_role(user, roles: tuple[str, ...]) -> bool:
    have = roles_of(user)
    # An admin passes every role check: admins manage the system, including its agents' views.
    return ADMIN in have or bool(have & set(roles))


def role_required(*roles: str):
    """Anonymous users go to the login page; logged-in users without the role get 403."""
    if not roles or any(role not in ROLES for role in roles):
        raise ValueError(f"role_required needs roles from {ROLES}, got {roles}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_any_role(request.user, roles):
                raise PermissionDenied(f"This page needs the role: {' or '.join(roles)}.")
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


admin_required = role_required(ADMIN)
