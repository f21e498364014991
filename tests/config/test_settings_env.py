"""Settings come from the environment and refuse bad values with a message naming the variable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env

ROOT = Path(__file__).resolve().parents[2]


def test_booleans_accept_common_words_and_refuse_typos() -> None:
    env = Env({"A": "yes", "B": "0", "C": "flase"})
    assert env.bool("A", default=False) is True
    assert env.bool("B", default=True) is False
    assert env.bool("MISSING", default=True) is True
    with pytest.raises(ImproperlyConfigured, match="C='flase' is not a boolean"):
        env.bool("C", default=False)


def test_integers_refuse_words_and_values_below_minimum() -> None:
    env = Env({"N": "12", "W": "ten", "LOW": "-1"})
    assert env.int("N", 1) == 12
    with pytest.raises(ImproperlyConfigured, match="W='ten' is not a whole number"):
        env.int("W", 1)
    with pytest.raises(ImproperlyConfigured, match="LOW=-1 must be at least 0"):
        env.int("LOW", 1, minimum=0)


def test_lists_and_choices() -> None:
    env = Env({"HOSTS": " a.example , b.example,", "PROFILE": "staging"})
    assert env.list("HOSTS") == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="PROFILE='staging' is not one of"):
        env.choice("PROFILE", "development", ("development", "production"))


def test_database_urls() -> None:
    env = Env({"PG": "postgres://postgres@127.0.0.1:5432/escucha", "BAD": "mongo://x/y"})
    assert env.database("PG", "sqlite:///x")["ENGINE"] == "django.db.backends.postgresql"
    assert env.database("NONE", "sqlite:////tmp/x.sqlite3")["ENGINE"] == "django.db.backends.sqlite3"
    with pytest.raises(ImproperlyConfigured, match="BAD"):
        env.database("BAD", "sqlite:///x")


def test_redis_url_must_be_a_redis_url() -> None:
    env = Env({"REDIS_URL": "localhost:6379"})
    with pytest.raises(ImproperlyConfigured, match="must be a URL starting with one of: redis://"):
        env.url("REDIS_URL", schemes=("redis", "rediss"))


def _settings_in_subprocess(environment: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ESCUCHA_VAR_DIR": "/tmp/escucha-test-var",
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; " + code],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_default_uses_sqlite_and_filesystem_broker() -> None:
    result = _settings_in_subprocess(
        {}, "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "True"]


def test_production_refuses_to_start_without_secret_key_and_hosts() -> None:
    result = _settings_in_subprocess({"ESCUCHA_PROFILE": "production"}, "print(settings.DEBUG)")
    assert result.returncode != 0
    assert "ESCUCHA_PROFILE=production needs SECRET_KEY and ALLOWED_HOSTS" in result.stderr


def test_production_profile_passes_the_deploy_checks() -> None:
    environment = {
        "ESCUCHA_PROFILE": "production",
        "SECRET_KEY": "k" * 20 + "-Zq8!x" + "v" * 30,
        "ALLOWED_HOSTS": "escucha.example.com",
        "DATABASE_URL": "sqlite:////tmp/escucha-deploy-check.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ESCUCHA_VAR_DIR": "/tmp/escucha-test-var", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_typo_in_a_boolean_variable_stops_the_process() -> None:
    result = _settings_in_subprocess({"DEBUG": "ture"}, "print(settings.DEBUG)")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_a_float_setting_names_the_variable_when_it_is_wrong() -> None:
    assert Env({"SPIKE_FACTOR": "2.5"}).float("SPIKE_FACTOR", 3.0, minimum=1.0) == 2.5
    assert Env({}).float("SPIKE_FACTOR", 3.0, minimum=1.0) == 3.0
    for bad in ("three", "nan", "0.5"):
        with pytest.raises(ImproperlyConfigured, match="SPIKE_FACTOR"):
            Env({"SPIKE_FACTOR": bad}).float("SPIKE_FACTOR", 3.0, minimum=1.0)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("EMAIL_URL", "nonsense", "EMAIL_URL must start with one of: smtp://"),
        ("EMAIL_URL", "smtp://mail.example.org?tsl=true", "EMAIL_URL has an unknown option tsl=true"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL='verbose' is not one of: DEBUG"),
        ("LANGUAGE_CODE", "fr", "LANGUAGE_CODE='fr' is not one of: en, es"),
        ("SITE_URL", "escucha.example.org", "SITE_URL='escucha.example.org' must be a URL starting with one of"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not a time zone"),
        ("HTTP_TIMEOUT_SECONDS", "soon", "HTTP_TIMEOUT_SECONDS='soon' is not a whole number"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [[sys.executable, "manage.py", "check"], [str(Path(sys.executable).parent / "celery"), "-A", "config", "report"]],
)
def test_a_refused_value_is_one_line_naming_the_variable_with_an_example(variable, value, says, command) -> None:
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ESCUCHA_VAR_DIR": "/tmp/escucha-test-var", variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"Escucha cannot start: {says}")
    assert "(example: " in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_email_urls_mean_what_mail_clients_mean() -> None:
    ssl = Env({"EMAIL_URL": "smtps://bot%40acme.example:s3cr%2Ft@mail.example.org"}).email("EMAIL_URL")
    assert ssl is not None
    assert (ssl["EMAIL_USE_SSL"], ssl["EMAIL_USE_TLS"], ssl["EMAIL_PORT"]) == (True, False, 465)
    assert (ssl["EMAIL_HOST_USER"], ssl["EMAIL_HOST_PASSWORD"]) == ("bot@acme.example", "s3cr/t")
    starttls = Env({"EMAIL_URL": "smtp://mail.example.org:2525?tls=True"}).email("EMAIL_URL")
    assert starttls is not None
    assert (starttls["EMAIL_USE_TLS"], starttls["EMAIL_USE_SSL"], starttls["EMAIL_PORT"]) == (True, False, 2525)
    plain = Env({"EMAIL_URL": "smtp://mailpit:1025"}).email("EMAIL_URL")
    assert plain is not None and not plain["EMAIL_USE_TLS"] and not plain["EMAIL_USE_SSL"]
    assert Env({"EMAIL_URL": "smtp+tls://mail.example.org"}).email("EMAIL_URL")["EMAIL_PORT"] == 587
    assert Env({}).email("EMAIL_URL") is None
    with pytest.raises(ImproperlyConfigured, match="both TLS and SSL"):
        Env({"EMAIL_URL": "smtp+tls://mail.example.org?ssl=true"}).email("EMAIL_URL")


def test_production_pages_carry_the_deployment_checklist_headers() -> None:
    # The page's static links need collectstatic's manifest in production: plain storage here.
    code = (
        "from django.test import Client, override_settings; "
        "plain = {**settings.STORAGES, 'staticfiles': {'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}; "
        "override_settings(STORAGES=plain).enable(); "
        "r = Client().get('/accounts/login/', secure=True, HTTP_HOST='escucha.example.com'); "
        "import json; print(json.dumps({'status': r.status_code, 'headers': dict(r.headers), "
        "'cookies': {k: {'secure': v['secure'], 'httponly': v['httponly']} for k, v in r.cookies.items()}}))"
    )
    result = _settings_in_subprocess(
        {
            "ESCUCHA_PROFILE": "production",
            "SECRET_KEY": "k" * 20 + "-Zq8!x" + "v" * 30,
            "ALLOWED_HOSTS": "escucha.example.com",
            "DATABASE_URL": "sqlite:////tmp/escucha-deploy-check.sqlite3",
        },
        code,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    headers = answer["headers"]
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert answer["cookies"]["csrftoken"]["secure"] is True


def test_the_private_network_allowlist_is_host_port_values_and_defaults_to_the_site_outside_production() -> None:
    env = Env({"ALLOW": " Gateway.Internal:8443, 10.0.0.5:80 ,[::1]:8000", "BAD": "10.0.0.5"})
    assert env.host_ports("ALLOW") == ["gateway.internal:8443", "10.0.0.5:80", "[::1]:8000"]
    for bad in ("10.0.0.5", "10.0.0.5:http", "http://10.0.0.5:80", "10.0.0.5:80/feed", "10.0.0.5:99999"):
        with pytest.raises(ImproperlyConfigured, match=r"PRIVATE_NETWORK_ALLOWLIST: .* is not host:port"):
            Env({"PRIVATE_NETWORK_ALLOWLIST": bad}).host_ports("PRIVATE_NETWORK_ALLOWLIST")

    show = "print(settings.PRIVATE_NETWORK_ALLOWLIST)"
    development = _settings_in_subprocess({"SITE_URL": "http://127.0.0.1:8123"}, show)
    assert development.stdout.strip() == "['127.0.0.1:8123']", development.stderr
    production = {
        "ESCUCHA_PROFILE": "production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "escucha.example.com",
        "SITE_URL": "http://127.0.0.1:8000",
    }
    assert _settings_in_subprocess(production, show).stdout.strip() == "[]"
    wrong = _settings_in_subprocess({"PRIVATE_NETWORK_ALLOWLIST": "redis"}, show)
    assert wrong.returncode != 0
    assert "PRIVATE_NETWORK_ALLOWLIST: 'redis' is not host:port" in wrong.stderr


def test_debug_logging_never_writes_the_client_libraries_requests() -> None:
    code = (
        "import logging; print(logging.getLogger().getEffectiveLevel(), "
        "*(logging.getLogger(n).getEffectiveLevel() for n in ('tweepy', 'urllib3', 'requests_oauthlib')))"
    )
    result = _settings_in_subprocess({"LOG_LEVEL": "DEBUG"}, code)
    assert result.returncode == 0, result.stderr
    root, *libraries = (int(level) for level in result.stdout.split())
    assert root == 10 and all(level >= 20 for level in libraries)
