"""Write paths for users: create and edit with exactly one role.

The user row, its role group and `is_staff` (admins get the Django admin) change in one
transaction, so a failure never leaves a user without a role or with a stale `is_staff`.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from users.models import User
from users.roles import ADMIN, ROLES

# What the user pages may change; everything else (superuser, last login...) is not theirs.
EDITABLE_FIELDS = ("username", "first_name", "last_name", "email", "is_active")


def _role_set(user: User, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    # Only the roles the user loses and gains: the audit log records exactly these.
    user.groups.remove(*user.groups.filter(name__in=ROLES).exclude(name=role))
    if not user.groups.filter(name=role).exists():
        user.groups.add(Group.objects.get(name=role))
    user.is_staff = role == ADMIN or user.is_superuser
    user.save(update_fields=["is_staff"])


def user_create(*, role: str, password: str | None, **values) -> User:
    """A new user with one role; `values` are EDITABLE_FIELDS. `password=None` (the CSV
    import) leaves the account without a usable password until the user sets one through a
    set-password link (`users/password_links.py`)."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"user_create() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        user = User(**values)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        _role_set(user, role)
    return user


def user_update(*, user: User, role: str, password: str = "", **values) -> User:
    """Change a user and give them `role` (their only one); a blank password keeps the current
    one."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"user_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        for name, value in values.items():
            setattr(user, name, value)
        if password:
            user.set_password(password)
        user.save()
        _role_set(user, role)
    # The role cache of roles_of() describes the old groups.
    user.__dict__.pop("_autodialer_roles", None)
    return user
