"""Settings for the test suite: the environment's database and Redis, everything else in-process."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import REDIS_URL, REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# The suite makes thousands of API requests a minute as a handful of users; the throttling tests
# set their own small rates.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"}}
# The generator task deletes nothing by chance: tests delete what they mean to (sandbox.deletions).
SANDBOX_DELETE_SHARE = 0.0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as the embedded default is: the live server's request threads then open connections
    # of their own (WAL, a busy timeout) instead of sharing the test thread's in-memory one, where a
    # request still running when a test ends makes the table flush fail with "table is locked".
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
    # The process's own: a benchmark or a second run started beside this one never replaces it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
