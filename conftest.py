"""Shared test fixtures: personas (admin, supervisor, agent, other agent) and database checks.

The same suite runs on SQLite, PostgreSQL and MariaDB (DATABASE_URL picks one). A database
that was asked for but cannot be reached stops the run: it is a failure, never a skip.
"""

import os

import pytest
from django.contrib.auth.models import Group
from django.test import Client


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}"


def pytest_sessionstart(session):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        # Django deletes the old test database file but not its WAL: a stale -wal next to a
        # fresh file would be replayed into it. A crashed run leaves one behind.
        for suffix in ("-wal", "-shm"):
            stale = db["TEST"]["NAME"] + suffix
            if os.path.exists(stale):
                os.remove(stale)


@pytest.fixture(scope="session", autouse=True)
def _database_reachable(django_db_blocker):
    from django.conf import settings
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    try:
        with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
            # The server, not the test database (which does not exist yet).
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
        pytest.exit(
            f"Database {os.environ.get('DATABASE_URL')} is unreachable: {exc}", returncode=3
        )


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    # Tests do not run collectstatic; the manifest storage of production would refuse {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Django's PBKDF2 costs about 0.25 s per hash on purpose, and the suite creates and logs in
    # thousands of users: that was a third of its wall time. Tests check *that* a password is
    # right, not how slowly; production keeps Django's default hashers (test_settings_env).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def server():
    """An Asterisk server (phone_helpers.make_server's values). A module whose assertions
    depend on other values overrides it with make_server(...) and says which."""
    from telephony.tests.phone_helpers import make_server

    return make_server()


def _make_user(django_user_model, username, role, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="pw-" + username + "-123", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admin_user(django_user_model):
    return _make_user(django_user_model, "alice", "Admin", is_staff=True)


@pytest.fixture
def supervisor(django_user_model):
    return _make_user(django_user_model, "sam", "Supervisor")


@pytest.fixture
def agent(django_user_model):
    return _make_user(django_user_model, "bob", "Agent")


@pytest.fixture
def other_agent(django_user_model):
    return _make_user(django_user_model, "carol", "Agent")


@pytest.fixture
def outsider(django_user_model):
    """Logged in, but with no role at all."""
    return _make_user(django_user_model, "olga", None)


@pytest.fixture
def admin_client(admin_user):
    # A client of its own, so one test can act as several personas at once.
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def agent_client(agent):
    # A client of its own, so one test can act as several personas at once.
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def supervisor_client(supervisor):
    # A client of its own, so one test can act as several personas at once.
    client = Client()
    client.force_login(supervisor)
    return client


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    # test body (creating fixtures) are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def _roles_survive_flush(django_db_setup, django_db_blocker):
    """Keep the role groups (from a data migration) across the live server's flush.

    The post_migrate hook in users/apps.py restores them after an ordinary flush, but once
    Playwright's event loop runs in this thread Django's connections are per asyncio context,
    so the flush and the hook may not see the same connection. Requested before
    transactional_db, this fixture's teardown runs after the flush and puts them back.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.sql import emit_post_migrate_signal
    from django.db import DEFAULT_DB_ALIAS, connections

    from users.roles import ROLES

    def ensure() -> None:
        with django_db_blocker.unblock():
            # A serialized_rollback test's flush skips post_migrate, so it leaves no content
            # types behind while ContentType's cache still holds their ids: the audit log's
            # entry for the role created below then points at a missing row (SQLite reports
            # "FOREIGN KEY constraint failed" at commit). Put back what post_migrate would.
            ContentType.objects.clear_cache()
            emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)
            for role in ROLES:
                Group.objects.get_or_create(name=role)
            connections.close_all()

    ensure()
    yield
    ensure()


@pytest.fixture
def page(browser, _roles_survive_flush, live_server, transactional_db, settings):
    # The live server speaks plain http; production keeps Secure cookies on.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


def browser_login(page, username: str, password: str) -> None:
    page.goto(page.base_url + "/users/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def _empty_cache():
    # The registration snapshots (services/registration.py) live in Django's cache, which
    # outlives a test's database: one test's fake Asterisk must never answer for the next.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
