from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's own user model, so fields can be added later without a painful swap.

    Roles are auth groups (Admin, Supervisor, Agent); see users/roles.py.
    """

    class Meta:
        ordering = ["username"]
