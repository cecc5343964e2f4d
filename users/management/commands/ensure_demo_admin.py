"""Create a demo admin for a first look at the app (used by `make run`).

The password is random and kept in `.demo-admin` (git-ignored) so every `make run`
can print it again; an existing account is never overwritten.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from users.roles import ADMIN


class Command(BaseCommand):
    help = "Create the demo admin 'admin' if no admin exists, and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        secret_file = Path(settings.BASE_DIR) / ".demo-admin"
        has_admin = User.objects.filter(is_superuser=True).exists() or User.objects.filter(
            groups__name=ADMIN).exists()
        if not has_admin:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=username, password=password,
                                                 email="")
            user.groups.add(Group.objects.get(name=ADMIN))
            secret_file.write_text(f"{username}\n{password}\n")
            secret_file.chmod(0o600)
        if secret_file.exists():
            saved_user, saved_password = secret_file.read_text().split("\n")[:2]
            if User.objects.filter(username=saved_user).exists():
                self.stdout.write(self.style.SUCCESS(
                    f"Demo admin: username '{saved_user}', password '{saved_password}'"))
                return
        self.stdout.write("An admin account already exists; log in with it "
                          "(reset a password with: python manage.py changepassword <user>).")
