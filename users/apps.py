from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_roles(using="default", **kwargs) -> None:
    """Create the role groups if missing.

    The data migration 0002_roles creates them once; this post_migrate hook restores them after
    a `flush` (which empties every table, as transactional tests do), the same way Django
    re-creates content types and permissions.
    """
    from django.contrib.auth.models import Group

    from users.roles import ROLES

    for name in ROLES:
        Group.objects.using(using).get_or_create(name=name)
    admin_group_permissions(using)


def admin_group_permissions(using="default") -> None:
    """Give the Admin group the Django admin's permissions on every telephony model.

    The users app is left out on purpose: Django's own user admin can grant superuser status,
    so Admins manage users on the app's Users page, whose guards keep superusers to superusers.
    Runs after every app's migrations, as telephony's permissions appear only after its own.
    """
    from django.contrib.auth.models import Group, Permission

    from users.roles import ADMIN

    group = Group.objects.using(using).filter(name=ADMIN).first()
    if group is None:
        return
    wanted = Permission.objects.using(using).filter(content_type__app_label="telephony")
    missing = wanted.exclude(group=group)
    if missing.exists():
        group.permissions.add(*missing)


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_roles, dispatch_uid="users.ensure_roles")
