"""Set-password links for accounts that have no password yet (users created by the CSV import).

An import never carries passwords: a spreadsheet of passwords is one forwarded e-mail away from
everyone. The account gets an unusable password, and the admin hands each user a link made by
Django's password-reset token generator, so it works once (setting the password changes what
the token is made from) and expires after PASSWORD_RESET_TIMEOUT (3 days by default). There is
no e-mail: the admin downloads the links and passes them on.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from telephony import csvcells
from users.models import User


def password_link_path(user: User) -> str:
    return reverse("users:set_password", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user)})


def users_without_password(*, actor: User):
    """Active accounts nobody can log in to yet; a superuser's only for a superuser (an admin
    who could set a superuser's password could become one)."""
    users = User.objects.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return users if actor.is_superuser else users.filter(is_superuser=False)


def password_links_csv(*, users: Iterable[User], base_url: str) -> str:
    out = io.StringIO()
    writer = csvcells.writer(out, lineterminator="\r\n")
    writer.writerow(["username", "name", "email", "set_password_link"])
    for user in users:
        writer.writerow([user.username, user.get_full_name(), user.email,
                         base_url + password_link_path(user)])
    return out.getvalue()
