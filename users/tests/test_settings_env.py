import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from autodialer.env import env_bool, env_list, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_it_parses_postgres_url():
    db = parse_database_url("postgres://u:p%40ss@db.local:5433/autodialer")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u", "p@ss", "db.local", "5433", "autodialer")


def test_it_parses_mysql_url_with_strict_mode():
    db = parse_database_url("mysql://root@127.0.0.1:3306/autodialer")
    assert db["ENGINE"] == "django.db.backends.mysql"
    assert db["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in db["OPTIONS"]["init_command"]


@pytest.mark.parametrize("url", ["foo://x", "postgres://", "postgres://host:99999/db",
                                 "mysql://host/", "sqlite://"])
def test_it_refuses_bad_database_urls(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url(url)


def test_it_refuses_a_boolean_that_is_not_one(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", False)


def test_it_refuses_empty_list_items(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", [])


def _check(env):
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=60)


def test_startup_fails_naming_database_url():
    result = _check({"DATABASE_URL": "foo://x", "DEBUG": "true"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_startup_fails_without_secret_key_in_production():
    result = _check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_startup_fails_on_debug_maybe():
    result = _check({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_an_unreachable_test_database_fails_the_run_instead_of_skipping():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update({"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere", "CI": "true",
                "DEBUG": "false", "SECRET_KEY": "test"})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "users/tests/test_roles.py", "-k", "created_by"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "is unreachable" in result.stdout + result.stderr


@pytest.mark.parametrize("name,value", [
    ("LOGIN_MAX_FAILURES", "0"), ("LOGIN_LOCKOUT_MINUTES", "-5"), ("TRUSTED_PROXY_COUNT", "-1"),
    ("LOGIN_MAX_FAILURES_PER_IP", "fifty"),
])
def test_startup_fails_on_a_login_throttle_that_would_not_throttle(name, value):
    result = _check({"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_startup_accepts_a_trusted_proxy():
    result = _check({"DEBUG": "true", "TRUSTED_PROXY_COUNT": "1"})
    assert result.returncode == 0, result.stderr


def test_production_hashes_passwords_with_djangos_default_not_the_tests_fast_one():
    # conftest.py swaps in MD5 for speed; the settings module itself must not.
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(settings.PASSWORD_HASHERS[0])"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "autodialer.settings", "DEBUG": "false",
             "SECRET_KEY": "x" * 50})
    assert result.stdout.strip() == "django.contrib.auth.hashers.PBKDF2PasswordHasher", \
        result.stderr
