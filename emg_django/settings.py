"""Django settings: everything configurable comes from :mod:`emg_django.config` (``EMG_*``)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import dj_database_url

from emg_django.config import PROJECT_ROOT, VAR_DIR, get_config

EMG_CONFIG = get_config()

DEBUG = EMG_CONFIG.django.debug

if EMG_CONFIG.django.secret_key is not None:
    SECRET_KEY = EMG_CONFIG.django.secret_key.get_secret_value()
elif DEBUG:
    # Development only: a per-process key (sessions do not survive a restart).
    SECRET_KEY = secrets.token_urlsafe(50)
    logging.getLogger(__name__).warning(
        "EMG_DJANGO__SECRET_KEY is unset: a random key (debug only)"
    )
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("EMG_DJANGO__SECRET_KEY must be set unless EMG_DJANGO__DEBUG=true")

ALLOWED_HOSTS = EMG_CONFIG.django.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "emg_django.ena",
    "emg_django.analyses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if EMG_CONFIG.django.behind_tls_proxy:
    # Only behind a proxy that sets (or strips) this header itself: clients could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ROOT_URLCONF = "emg_django.urls"
WSGI_APPLICATION = "emg_django.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = EMG_CONFIG.database.url.replace("postgresql+psycopg2://", "postgresql://", 1)
    db: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=EMG_CONFIG.database.conn_max_age)
    )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # Several Dagster runs may write at once on the embedded default: WAL + a busy timeout.
        db["OPTIONS"] = {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
        db["CONN_MAX_AGE"] = 0
    else:
        db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Where the project keeps its fixtures and demo data.
EMG_PROJECT_ROOT = PROJECT_ROOT
