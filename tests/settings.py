"""Django settings for the test suite: the platform's settings on the real Postgres.

``EMG_DATABASE__URL`` overrides the database (pytest-django creates ``test_<name>`` beside it).
"""

import os

os.environ.setdefault("EMG_DATABASE__URL", "postgresql://postgres@127.0.0.1:5432/emg")
os.environ.setdefault("EMG_DJANGO__SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("EMG_API__JWT_SECRET", "tests-only-jwt-secret-not-for-production-0123456789")

from emg_django.settings import *  # noqa: E402,F403

# Hashing with the default PBKDF2 costs ~0.3 s per user; tests make many.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
