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


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="users.ensure_roles")
