"""Settings for autodialer, read from the environment (see .env.example)."""

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from autodialer.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or set DEBUG=true for a "
            "development run (make run does this for you)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), name="DATABASE_URL"
    )
}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests on SQLite use a file, not Django's shared-cache in-memory database: with threads
    # writing at once (the event listener, the live server) shared cache fails at once with
    # "database table is locked", while a file waits for the lock like a real server does.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    sqlite_options = DATABASES["default"]["OPTIONS"]
    # The busy timeout: how long a writer waits for another's lock (DB_LOCK_TIMEOUT below).
    sqlite_options.setdefault("timeout", env_int("DB_LOCK_TIMEOUT", 5) or 20)
    # A transaction that starts by reading and then writes (the event listener's
    # read-modify-write of a Call) cannot wait for the lock: SQLite refuses the upgrade with
    # "database is locked" at once, whatever the timeout, to avoid a deadlock. BEGIN IMMEDIATE
    # takes the write lock first, so the timeout applies; WAL lets pages keep reading meanwhile.
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
    sqlite_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

# Every wait on the database is bounded (seconds; 0 leaves the server's default): a lock held
# elsewhere (Asterisk, a migration) fails the statement after DB_LOCK_TIMEOUT and any statement
# is cut after DB_STATEMENT_TIMEOUT, below gunicorn's 30 s worker timeout, so a web request
# ends with "the database is busy" (autodialer/busy.py) instead of a killed worker.
DB_LOCK_TIMEOUT = env_int("DB_LOCK_TIMEOUT", 5)
DB_STATEMENT_TIMEOUT = env_int("DB_STATEMENT_TIMEOUT", 20)
if DB_LOCK_TIMEOUT < 0 or DB_STATEMENT_TIMEOUT < 0:
    raise ImproperlyConfigured("DB_LOCK_TIMEOUT and DB_STATEMENT_TIMEOUT are seconds, 0 or more.")
_database = DATABASES["default"]
if _database["ENGINE"].endswith("postgresql"):
    _flags = [_database["OPTIONS"].get("options", "")]
    if DB_LOCK_TIMEOUT:
        _flags.append(f"-c lock_timeout={DB_LOCK_TIMEOUT}s")
    if DB_STATEMENT_TIMEOUT:
        _flags.append(f"-c statement_timeout={DB_STATEMENT_TIMEOUT}s")
    _database["OPTIONS"]["options"] = " ".join(flag for flag in _flags if flag)
elif _database["ENGINE"].endswith("mysql"):
    # One SET (init_command runs a single statement). innodb_lock_wait_timeout bounds row
    # locks, lock_wait_timeout table (metadata) locks; max_statement_time is MariaDB's, so it
    # sits in a comment only MariaDB executes and MySQL skips.
    _init = [_database["OPTIONS"].get("init_command", "")]
    if DB_LOCK_TIMEOUT:
        _init.append(f"innodb_lock_wait_timeout={DB_LOCK_TIMEOUT}, "
                     f"lock_wait_timeout={DB_LOCK_TIMEOUT}")
    _command = ", ".join(part for part in _init if part)
    if DB_STATEMENT_TIMEOUT:
        _command += f" /*M!100108 , max_statement_time={DB_STATEMENT_TIMEOUT} */"
    if _command:
        _database["OPTIONS"]["init_command"] = (
            _command if _command.lstrip().upper().startswith("SET") else "SET " + _command)

# Region used to read national phone numbers typed without a +country prefix.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US").upper()

# Transports the operator defined in pjsip.conf besides the generated transport-udp (e.g.
# transport-tls): the extension forms offer only transports Asterisk has.
PJSIP_EXTRA_TRANSPORTS = env_list("PJSIP_EXTRA_TRANSPORTS", [])
for _transport in PJSIP_EXTRA_TRANSPORTS:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", _transport):
        raise ImproperlyConfigured(
            f"PJSIP_EXTRA_TRANSPORTS: {_transport!r} is not a transport name (letters, digits, "
            "'_' or '-').")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    "users",
    "telephony",
    "auditlog",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication: the logged-in user is the actor of every change the request makes.
    "audit.middleware.AuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication, so its 400 page has the navigation; before every view.
    "autodialer.input.InputMiddleware",
    "autodialer.busy.DatabaseBusyMiddleware",
    "autodialer.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "autodialer.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "users.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "autodialer.wsgi.application"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "users:login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploaded files (lead CSVs while they import, safe-harbor messages): a directory only the
# app writes. Asterisk plays the converted safe-harbor WAVs from ASTERISK_SOUNDS_DIR.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
ASTERISK_SOUNDS_DIR = Path(env_str("ASTERISK_SOUNDS_DIR", str(MEDIA_ROOT / "sounds")))
LEAD_IMPORT_MAX_MB = env_int("LEAD_IMPORT_MAX_MB", 50)

# Background jobs (lead imports, big extension and user imports): django-tasks with its
# database backend, run by `manage.py db_worker` (docs/architecture.md says why).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job that has not written a heartbeat for this long is shown as stalled (its worker
# stopped) and can be queued again or cancelled. Each batch writes one, so this must be well
# above the longest batch (seconds; a users batch of 100 rows takes about 2 s).
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 120)
# A confirmed extensions or users CSV import writing more rows than this runs as a background
# job with a progress page instead of in the web request.
IMPORT_BACKGROUND_AFTER = env_int("IMPORT_BACKGROUND_AFTER", 500)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Uploads: CSV imports of extensions are small; refuse anything absurd before reading it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the agent panel's script reads it to call the JSON API
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind TLS (docs/architecture.md, "Production behind TLS"): HSTS once every user reaches
    # the site over https, and a redirect of plain http when no proxy does it already.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)

# Login throttling (users/login_throttle.py). With LOGIN_MAX_FAILURES failed logins for one
# username from one address in the last LOGIN_LOCKOUT_MINUTES, that pair is refused until enough
# of them are older than that; LOGIN_MAX_FAILURES_PER_IP does the same for an address across all
# usernames.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 50)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# Reverse proxies in front of gunicorn that append to X-Forwarded-For. At 0 the header is
# ignored: any client can send it, so trusting it without a proxy lets every guess claim a new
# address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
for _name, _least in [("LOGIN_MAX_FAILURES", 1), ("LOGIN_MAX_FAILURES_PER_IP", 1),
                      ("LOGIN_LOCKOUT_MINUTES", 1), ("TRUSTED_PROXY_COUNT", 0)]:
    if globals()[_name] < _least:
        raise ImproperlyConfigured(f"{_name}={globals()[_name]} must be at least {_least}.")

# Asterisk connections: every AMI/ARI call is bounded by this many seconds.
ASTERISK_TIMEOUT = float(env_int("ASTERISK_TIMEOUT", 5))
# The extensions list shows each server's registrations as Asterisk reported them at most this
# many seconds ago (one snapshot in the cache, shared by every request and admin of a worker
# process), saying how old they are; 0 asks Asterisk on every page (services/registration.py).
REGISTRATION_CACHE_SECONDS = env_int("REGISTRATION_CACHE_SECONDS", 10)
if REGISTRATION_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("REGISTRATION_CACHE_SECONDS must be 0 or more.")
# The live board re-fetches every 3 s in every open wallboard: boards polling within this many
# seconds of each other share one AMI answer per server (0: each poll asks Asterisk itself).
LIVE_BOARD_CACHE_SECONDS = env_int("LIVE_BOARD_CACHE_SECONDS", 1)
if LIVE_BOARD_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("LIVE_BOARD_CACHE_SECONDS must be 0 or more.")
# A lead claimed by a dialer worker that died before writing its attempt row is given back
# after this many seconds (the row is written milliseconds after the claim, in the same tick).
DIALER_UNSTICK_SECONDS = env_int("DIALER_UNSTICK_SECONDS", 120)
# Preview mode: how long a lead shown to an agent stays theirs undialled before it is given
# back (telephony/dialer/preview.py).
DIALER_PREVIEW_SECONDS = env_int("DIALER_PREVIEW_SECONDS", 300)
# The agent's screen pop (views/dialer.py): how often the push stream reads the session row,
# how long one stream lasts before the browser reconnects, and the reconnect delay.
DIALER_PUSH_INTERVAL_MS = env_int("DIALER_PUSH_INTERVAL_MS", 100)
DIALER_PUSH_STREAM_SECONDS = env_int("DIALER_PUSH_STREAM_SECONDS", 55)
DIALER_PUSH_RETRY_MS = env_int("DIALER_PUSH_RETRY_MS", 500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # panoramisk logs its protocol version at INFO on every AMI connection (one per API call).
    "loggers": {"panoramisk": {"level": "WARNING"}},
}

# MariaDB has no partial unique indexes, so "one active phone per user" is not enforced by the
# database there; telephony.services.phones checks it in the same transaction instead.
SILENCED_SYSTEM_CHECKS = ["models.W036"]
