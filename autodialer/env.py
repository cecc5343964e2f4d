"""Strict readers for settings taken from the environment.

A call centre runs this on a closed network, often configured by someone who
is not a Django developer. A typo must stop start-up with a message naming the
variable, never fall back silently to a default that "works" (for example a
production box quietly running on SQLite because DATABASE_URL was misspelt).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of true/false, yes/no, on/off, 1/0."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"{name}={value!r} has an empty item; separate values by commas."
        )
    return items


_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
}


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Turn `scheme://user:pass@host:port/dbname?opt=val` into a Django DATABASES entry.

    SQLite takes `sqlite:///relative/path.sqlite3` or `sqlite:////absolute/path`.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed ({exc}): {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in _ENGINES:
        known = ", ".join(sorted(_ENGINES))
        raise ImproperlyConfigured(
            f"{name} has an unknown scheme {parts.scheme!r} in {url!r}; use one of: {known}."
        )
    engine = _ENGINES[scheme]
    options = dict(parse_qsl(parts.query, keep_blank_values=False))
    if engine.endswith("sqlite3"):
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"{name} for SQLite needs a file path: sqlite:///db.sqlite3")
        return {"ENGINE": engine, "NAME": path, "OPTIONS": options}
    db_name = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not db_name or "/" in db_name:
        raise ImproperlyConfigured(
            f"{name} must look like {scheme}://user:password@host:port/dbname, got {url!r}."
        )
    config = {
        "ENGINE": engine,
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port) if port else "",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }
    if engine.endswith("mysql"):
        # Asterisk's ODBC driver and our own code both expect utf8mb4 and strict mode,
        # so a too-long value is an error instead of a silent truncation.
        config["OPTIONS"].setdefault("charset", "utf8mb4")
        config["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return config
