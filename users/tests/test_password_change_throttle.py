"""The password-change page is throttled like the login page: its "old password" field must
not be a way to guess the password of an account whose session was left open."""

import pytest
from django.test import Client
from django.urls import reverse

from users.models import LoginFailure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def session(agent):
    client = Client(REMOTE_ADDR="10.0.0.7")
    client.force_login(agent)
    return client


def change(client, old, new="A-new-pass-9981", again=None):
    return client.post(reverse("users:password_change"), {
        "old_password": old, "new_password1": new, "new_password2": again or new})


def test_five_wrong_old_passwords_refuse_even_the_right_one(session, agent):
    for _ in range(5):
        assert change(session, "guess").status_code == 200

    refused = change(session, "pw-bob-123")

    assert refused.status_code == 429
    assert "Too many wrong passwords. Try again in 15 minutes." in refused.content.decode()
    agent.refresh_from_db()
    assert agent.check_password("pw-bob-123")  # unchanged
    # The same lock guards the login page: it is the same guess, made elsewhere.
    login = Client(REMOTE_ADDR="10.0.0.7").post(
        reverse("users:login"), {"username": "bob", "password": "pw-bob-123"})
    assert login.status_code == 429


def test_the_right_old_password_changes_it_and_clears_the_failures(session, agent):
    change(session, "guess")

    response = change(session, "pw-bob-123")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("A-new-pass-9981")
    assert not LoginFailure.objects.filter(username="bob").exists()


def test_a_refused_new_password_does_not_count_as_a_guess(session, agent):
    for _ in range(6):
        response = change(session, "pw-bob-123", new="A-new-pass-9981", again="different")
        assert response.status_code == 200
        assert "didn’t match" in response.content.decode()

    assert not LoginFailure.objects.filter(username="bob").exists()
    assert change(session, "pw-bob-123").status_code == 302
