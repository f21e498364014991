"""Escucha's settings: every value comes from the environment (see ``.env.example``).

With nothing set, Escucha runs on the embedded default: a SQLite file and a Celery broker on the
filesystem under ``var/``, DEBUG on and a generated secret key. ``ESCUCHA_PROFILE=production``
refuses to start without ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.env import Env, SettingError, host_port

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

PROFILE = env.choice("ESCUCHA_PROFILE", "development", ("development", "production", "test"))
PRODUCTION = PROFILE == "production"
VAR_DIR = Path(env.str("ESCUCHA_VAR_DIR", str(BASE_DIR / "var")))


def _dev_secret_key() -> str:
    # A generated key kept under var/ so that logins survive a restart of `make run`.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    return key


SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if PRODUCTION:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise SettingError(
            f"ESCUCHA_PROFILE=production needs {' and '.join(missing)} set in the environment "
            "(example: SECRET_KEY=<50+ random characters> ALLOWED_HOSTS=escucha.example.org)."
        )
    if len(SECRET_KEY) < 50:
        raise SettingError(
            "SECRET_KEY must be at least 50 characters long in production "
            "(example: SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'))."
        )
else:
    SECRET_KEY = SECRET_KEY or _dev_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
# The key of the salted hashes that name a person in the suppression list and the privacy audit
# log. Set it on its own to keep those hashes when SECRET_KEY is rotated; it defaults to SECRET_KEY.
PRIVACY_HASH_KEY = env.str("PRIVACY_HASH_KEY") or SECRET_KEY
# How far back X compliance jobs and Facebook lookups check stored posts for deletions on the platform.
PLATFORM_DELETION_DAYS = env.int("PLATFORM_DELETION_DAYS", 30, minimum=1)

DEBUG = env.bool("DEBUG", default=not PRODUCTION and PROFILE != "test")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env.url(
    "SITE_URL", "http://127.0.0.1:8000", schemes=("https", "http"), example="https://escucha.example.org"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "listening",
    "responses",
    "publishing",
    "reports",
    "sandbox",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.NulFreeInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: it turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "config.context_processors.navigation",
                "responses.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is used by several processes at once (web, worker, beat): WAL lets
    # readers go on while one of them writes, and the timeout waits for a lock instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (locks, collision presence, rate-limit budgets) -----------------------------------
REDIS_URL = env.url("REDIS_URL", schemes=("redis", "rediss", "unix"), example="redis://127.0.0.1:6379/0")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that hangs (not refusing) must not hang the page: every use of the cache in a
            # request does without it when it fails (config/cache.py).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            # A file cache is shared by the web, worker and beat processes of `make run`.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ---------------------------------------------------------------------------------
# How the time limits, the broker's visibility timeout and the poll lease fit together:
# - Tasks are acknowledged after they run (acks_late): a worker killed mid-task leaves its message
#   unacknowledged, and Redis hands it to a worker again once the visibility timeout has passed.
# - So the timeout must outlast every late-acked task's hard time_limit plus the minute a reserved
#   message may wait for its pool process (else a task still running is handed out a second time),
#   and stays short so a killed reply or delivery is back in minutes (the sweeps also find them).
#   tests/config/test_celery_limits.py holds every task to it.
# - Tasks longer than that (rollups, spikes, scheduled reports, training) are periodic: they are
#   acknowledged when they start (acks_late=False); beat queues them again and a lock keeps two
#   runs from overlapping.
# - A poll holds its channel with a lease and a lock of listening.polling.LEASE_SECONDS, renewed
#   every page, and the poll task's hard time_limit is below it: a live poll never loses its lock,
#   and a killed one frees its channel within LEASE_SECONDS, long before its message comes back.
CELERY_VISIBILITY_TIMEOUT = 300
CELERY_RESERVED_WAIT_SECONDS = 60
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL", REDIS_URL or "filesystem://", schemes=("redis", "rediss", "amqp", "filesystem")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"  # a worker outlives a Redis restart (config/broker.py)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes a worker's database connection once every this many tasks rather than
# around each one: config/celery.py keeps it between tasks as Django keeps a web process's.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # A webhook delivery is stored on a queue of its own, so it never waits behind the polls.
    "listening.ingest_webhook": {"queue": "webhooks"},
    # Minutes of lookups on the platforms: not in front of the polls.
    "listening.check_platform_deletions": {"queue": "default"},
    # Training imports scikit-learn (~90 MiB), which the polling workers never load otherwise
    # (listening/tasks.py), and runs for minutes: not in a polling pool process.
    "listening.train_analyzers": {"queue": "default"},
    "listening.*": {"queue": "polling"},
    "responses.send_reply": {"queue": "outbound"},
    "publishing.publish_target": {"queue": "outbound"},
    "publishing.*": {"queue": "default"},
    "responses.deliver_webhook": {"queue": "integrations"},
    "responses.deliver_webhooks": {"queue": "integrations"},
    "responses.notify_*": {"queue": "notifications"},
    "responses.*": {"queue": "default"},
    "reports.*": {"queue": "reports"},
}
CELERY_QUEUES_ALL = "webhooks,default,polling,outbound,notifications,reports,integrations"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Every 2 s: a channel is claimed at most 2 s after it is due, and each dispatch queues fewer
    # polls (about 110 a tick at 10,000 channels, ``bench/polling.py``).
    "dispatch-due-channels": {"task": "listening.dispatch_due_channels", "schedule": 2.0},
    "check-ticket-slas": {"task": "responses.check_slas", "schedule": 60.0},
    "sweep-replies": {"task": "responses.sweep_replies", "schedule": 300.0},
    "dispatch-due-posts": {"task": "publishing.dispatch_due_posts", "schedule": 30.0},
    "read-post-metrics": {"task": "publishing.read_post_metrics", "schedule": 300.0},
    "read-competitors": {"task": "publishing.read_competitors", "schedule": 900.0},
    "sweep-webhook-deliveries": {"task": "responses.sweep_webhook_deliveries", "schedule": 300.0},
    "refresh-rollups": {"task": "reports.refresh_rollups", "schedule": 60.0},
    "detect-spikes": {"task": "reports.detect_spikes", "schedule": 300.0},
    "send-scheduled-reports": {"task": "reports.send_scheduled_reports", "schedule": crontab(minute=0)},
    "train-analyzers": {"task": "listening.train_analyzers", "schedule": crontab(hour=3, minute=17)},
    "retention-run": {"task": "listening.retention_run", "schedule": crontab(hour=2, minute=23)},
    "check-platform-deletions": {"task": "listening.check_platform_deletions", "schedule": 600.0},
}
CELERY_TIMEZONE = "UTC"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "config.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for LOGIN_COOLOFF_MINUTES; `manage.py axes_reset` lifts it.
# Both together, so that a stranger guessing a colleague's password cannot lock them out.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.auth.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "config.auth.client_ip"
AXES_VERBOSE = False  # no banner from every manage.py command; lockouts are still logged
# How many proxies in front of Escucha append to X-Forwarded-For (0: the address is REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = env.choice("LANGUAGE_CODE", "en", ("en", "es"))
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.time_zone("TIME_ZONE", "UTC")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production static files come straight from the source folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------
# One URL, read by config.env (the schemes and options are in .env.example and the README).
_email = env.email("EMAIL_URL") or {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Escucha <escucha@localhost>")

# --- REST API -------------------------------------------------------------------------------


REST_FRAMEWORK = {
    # Token first: its challenge makes a missing or bad token a 401 with WWW-Authenticate (the
    # session scheme has none, and the first scheme's challenge is the one DRF sends).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.Schema",
    "DEFAULT_PAGINATION_CLASS": "config.rest.KeysetPagination",
    "EXCEPTION_HANDLER": "config.rest.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Requests per client: by address for anonymous ones, by user once authenticated.
    "DEFAULT_THROTTLE_CLASSES": ["config.api.AnonThrottle", "config.api.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.rate("API_THROTTLE_ANON", "60/minute"),
        "user": env.rate("API_THROTTLE_USER", "600/minute"),
    },
    # DRF's parsers, with NUL dropped from text and a bound on JSON nesting.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "config.parsers.FormParser",
        "config.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Escucha API",
    "DESCRIPTION": "Listen, respond, route and report on what people say about your brand.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes every endpoint: only people who may use the API read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI comes from the drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Content-Security-Policy (django-csp) ----------------------------------------------------
# Everything the pages load comes from Escucha itself; no inline script or style, no plugins,
# no framing. Data for scripts travels in json_script blocks, which are not executable.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Escucha --------------------------------------------------------------------------------
# Channel credentials are encrypted at rest with this key (defaults to one derived from SECRET_KEY).
CREDENTIALS_KEY = env.str("CREDENTIALS_KEY")
# Earlier keys, comma-separated, still accepted while a rotation is under way: secrets stored with
# them are read, new ones are written with the current key, and `manage.py rotate_credentials_key`
# re-encrypts every stored one so the earlier key can be dropped (README "Operations"). Signed
# sessions and links also accept SECRET_KEY_FALLBACKS (Django's own setting).
CREDENTIALS_KEY_FALLBACKS = env.list("CREDENTIALS_KEY_FALLBACKS")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS")
# Serve the local emulator of the X, Graph and YouTube APIs under /sandbox/ (the demo uses it).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=not PRODUCTION)
DEMO_GENERATOR_INTERVAL = env.int("DEMO_GENERATOR_INTERVAL", 20, minimum=1)
# Share of sandbox API requests answered with the platform's rate limit or server error (0 to 1):
# the soak benchmark and fault drills turn it on; the demo leaves it off.
SANDBOX_FAULT_RATE = env.float("SANDBOX_FAULT_RATE", 0.0, minimum=0.0)
# Share of the demo generator's runs that delete a person's item on a sandbox platform (0 to 1), so
# the demo shows deletions reaching Escucha; the soak benchmark turns it off to count what it posted.
SANDBOX_DELETE_SHARE = env.float("SANDBOX_DELETE_SHARE", 0.05, minimum=0.0)
HTTP_TIMEOUT_SECONDS = env.int("HTTP_TIMEOUT_SECONDS", 20, minimum=1)
# host:port values on a private network (loopback, 10.x, fc00::/7 …) that connectors, feeds and
# webhooks may reach; everything else private is refused. Outside production: SITE_URL's, for the demo's sandbox.
PRIVATE_NETWORK_ALLOWLIST = env.host_ports("PRIVATE_NETWORK_ALLOWLIST", [] if PRODUCTION else [host_port(SITE_URL)])
# Spike alert: negative mentions in the last hour above SPIKE_FACTOR times the hourly mean of the
# 24 hours before, and at least SPIKE_MIN_COUNT of them.
SPIKE_FACTOR = env.float("SPIKE_FACTOR", 3.0, minimum=1.0)
SPIKE_MIN_COUNT = env.int("SPIKE_MIN_COUNT", 10, minimum=1)
if SANDBOX_ENABLED:
    CELERY_BEAT_SCHEDULE["sandbox-generate"] = {
        "task": "listening.sandbox_generate",
        "schedule": float(DEMO_GENERATOR_INTERVAL),
    }

# --- Production hardening -------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Joining browsers' preload list is hard to undo: an operator's choice, not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    LANGUAGE_COOKIE_SECURE = True
    # /healthz is probed by the container health check over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), ignore_case=True),
    },
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs each step and page of every report PDF at INFO: fifteen lines per PDF.
        "weasyprint.progress": {"level": "WARNING"},
        # Client libraries that log whole requests (headers with bearer tokens, URLs with keys) at
        # DEBUG: never below INFO, so LOG_LEVEL=DEBUG cannot write a platform secret to the logs.
        **{
            name: {"level": "INFO"}
            for name in (
                "tweepy",
                "urllib3",
                "requests_oauthlib",
                "oauthlib",
                "googleapiclient",
                "facebook",
                "httplib2",
            )
        },
    },
}
