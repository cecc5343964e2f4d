"""The login page refuses password guessing: per username and address, and per address.

Every test posts to the real login page with Django's test client; the address is REMOTE_ADDR.
Expiry is tested by moving the recorded failures back in time, never by sleeping.
"""

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from users.login_throttle import login_attempt_start
from users.models import LoginFailure

pytestmark = pytest.mark.django_db

URL = reverse("users:login")
HOME = reverse("home")
CORRECT = "pw-bob-123"
LOCKED = "Too many failed logins. Try again in"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Dozens of checked passwords per test; the production hasher costs a second for every few.
    # Autouse fixtures run first, so the personas' passwords are hashed with this one too.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def attempt(username="bob", password="wrong-guess", ip="10.0.0.1", client=None, **extra):
    return (client or Client()).post(URL, {"username": username, "password": password},
                                     REMOTE_ADDR=ip, **extra)


def fail_times(count, username="bob", ip="10.0.0.1", **extra):
    for _ in range(count):
        response = attempt(username, ip=ip, **extra)
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content


def age_failures(minutes):
    LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=minutes))


def test_five_failures_refuse_the_correct_password_with_429(agent):
    fail_times(5)
    client = Client()
    response = attempt(password=CORRECT, client=client)
    assert response.status_code == 429
    assert b"Too many failed logins. Try again in 15 minutes." in response.content
    assert b'name="password"' in response.content  # the login page, ready for later
    assert "_auth_user_id" not in client.session
    agent.refresh_from_db()
    assert agent.last_login is None


def test_four_failures_still_let_the_correct_password_in(agent):
    fail_times(4)
    response = attempt(password=CORRECT)
    assert response.status_code == 302 and response["Location"] == HOME


def test_a_locked_attempt_checks_no_password(agent):
    fail_times(5)
    checked = []

    def receiver(**kwargs):
        checked.append(kwargs["credentials"]["username"])

    user_login_failed.connect(receiver)
    try:
        assert attempt().status_code == 429
    finally:
        user_login_failed.disconnect(receiver)
    assert checked == []


def test_refused_attempts_leave_no_row_and_do_not_extend_the_lock(agent):
    fail_times(5)
    for _ in range(3):
        assert attempt().status_code == 429
    assert LoginFailure.objects.count() == 5


def test_another_address_is_not_locked(agent):
    fail_times(5, ip="10.0.0.1")
    response = attempt(password=CORRECT, ip="10.0.0.2")
    assert response.status_code == 302


def test_another_username_from_the_same_address_is_not_locked(agent, other_agent):
    fail_times(5, username="bob")
    response = attempt("carol", password="pw-carol-123")
    assert response.status_code == 302


@pytest.mark.parametrize("variant", ["BOB", "Bob", " bob ", "ｂｏｂ"])
def test_usernames_are_compared_as_the_form_reads_them(agent, variant):
    fail_times(5, username=variant)
    response = attempt("bob", password=CORRECT)
    assert response.status_code == 429


def test_a_success_clears_that_username_and_address(agent):
    fail_times(4)
    assert attempt(password=CORRECT).status_code == 302
    assert not LoginFailure.objects.filter(username="bob").exists()
    fail_times(4)  # would be refused from the second on if the first four still counted
    assert attempt(password=CORRECT).status_code == 302


def test_a_success_keeps_other_addresses_failures(agent):
    fail_times(5, ip="10.0.0.2")
    assert attempt(password=CORRECT, ip="10.0.0.1").status_code == 302
    assert attempt(password=CORRECT, ip="10.0.0.2").status_code == 429


def test_the_message_counts_down_the_minutes_left(agent):
    fail_times(5)
    age_failures(10)
    response = attempt(password=CORRECT)
    assert response.status_code == 429
    assert b"Try again in 5 minutes." in response.content


def test_the_lock_expires_after_the_window(agent):
    fail_times(5)
    age_failures(14)
    assert attempt(password=CORRECT).status_code == 429
    age_failures(16)
    assert attempt(password=CORRECT).status_code == 302


def test_the_window_and_limit_follow_the_settings(agent, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_MINUTES = 60
    fail_times(2)
    age_failures(30)
    response = attempt(password=CORRECT)
    assert response.status_code == 429
    assert b"Try again in 30 minutes." in response.content


def test_old_rows_are_pruned_when_an_attempt_is_recorded(agent):
    old = LoginFailure.objects.create(username="mallory", ip="10.9.9.9",
                                      at=timezone.now() - timedelta(minutes=16))
    recent = LoginFailure.objects.create(username="mallory", ip="10.9.9.9",
                                         at=timezone.now() - timedelta(minutes=14))
    fail_times(1)
    assert not LoginFailure.objects.filter(pk=old.pk).exists()
    assert LoginFailure.objects.filter(pk=recent.pk).exists()


def test_the_per_address_cap_stops_spraying_across_usernames(agent, other_agent, settings):
    settings.LOGIN_MAX_FAILURES_PER_IP = 6  # 50 by default; fewer hashes keep the test fast
    for name in ["ann", "ben", "cid", "dan", "eve", "fay"]:
        fail_times(1, username=name)
    assert attempt("carol", password="pw-carol-123").status_code == 429
    response = attempt("bob", password=CORRECT)
    assert response.status_code == 429
    assert LOCKED.encode() in response.content
    assert attempt("bob", password=CORRECT, ip="10.0.0.2").status_code == 302


def test_the_per_address_cap_defaults_to_fifty(settings):
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_MAX_FAILURES_PER_IP,
            settings.LOGIN_LOCKOUT_MINUTES, settings.TRUSTED_PROXY_COUNT) == (5, 50, 15, 0)


def test_attempts_under_way_count_before_their_password_is_checked():
    # Five workers have written their rows and are still hashing: a sixth must already wait,
    # or a burst of parallel requests would get past the limit.
    for _ in range(5):
        assert not login_attempt_start(username="bob", ip="10.0.0.1").refused
    assert login_attempt_start(username="bob", ip="10.0.0.1").refused


def test_forwarded_for_is_ignored_by_default(agent):
    for n in range(5):
        response = attempt(ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code == 200
    response = attempt(password=CORRECT, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert response.status_code == 429
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"10.0.0.1"}


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(agent, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.254"
    # The client may prepend whatever it likes; the proxy appends the address it really saw.
    for n in range(5):
        fail_times(1, ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.5")
    locked = attempt(password=CORRECT, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = attempt(password=CORRECT, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


def test_a_trusted_proxy_count_falls_back_to_remote_addr_on_a_bad_header(agent, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    fail_times(1, ip="10.0.0.254", HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.253")
    assert list(LoginFailure.objects.values_list("ip", flat=True)) == ["10.0.0.254"]


def test_the_lockout_is_logged_once_as_a_warning(agent, caplog):
    def security():
        return [r for r in caplog.records if r.name == "users.security"]

    with caplog.at_level(logging.WARNING, logger="users.security"):
        fail_times(4)
        assert security() == []
        fail_times(1)
        attempt()  # refused: not a new lockout
    assert [record.levelname for record in security()] == ["WARNING"]
    assert "'bob'" in security()[0].getMessage()
    assert "10.0.0.1" in security()[0].getMessage()


def test_an_empty_password_is_not_counted(agent):
    response = Client().post(URL, {"username": "bob", "password": ""}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200
    assert not LoginFailure.objects.exists()


def test_admin_sees_and_clears_a_users_lockout(admin_client, agent):
    fail_times(5)
    page = admin_client.get(reverse("users:edit", args=[agent.pk])).content.decode()
    assert "5 from 10.0.0.1" in page and "locked out" in page
    response = admin_client.post(reverse("users:unlock", args=[agent.pk]))
    assert response.status_code == 302
    assert not LoginFailure.objects.exists()
    assert attempt(password=CORRECT).status_code == 302


def test_the_edit_page_shows_nothing_without_failures(admin_client, agent):
    page = admin_client.get(reverse("users:edit", args=[agent.pk])).content.decode()
    assert "Clear failed logins" not in page


def test_agents_cannot_clear_lockouts(agent_client, agent):
    fail_times(5)
    assert agent_client.post(reverse("users:unlock", args=[agent.pk])).status_code == 403
    assert LoginFailure.objects.count() == 5


def test_the_django_admin_login_sends_visitors_to_the_throttled_page(agent):
    response = Client().post("/admin/login/?next=/admin/",
                             {"username": "bob", "password": CORRECT})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?next=/admin/"


def test_the_django_admin_refuses_logged_in_non_staff_without_a_loop(agent_client):
    response = agent_client.get("/admin/", follow=True)
    assert response.status_code == 403


def test_the_django_admin_lists_login_failures_for_a_superuser(client, django_user_model):
    fail_times(1, username="mallory")
    root = django_user_model.objects.create_superuser("root", password="root-pass-123456")
    client.force_login(root)
    page = client.get(reverse("admin:users_loginfailure_changelist"), {"q": "mall"})
    assert b"mallory" in page.content
