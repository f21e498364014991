"""The production stack comes up: the image's build commands and every compose service, proven here.

No Docker engine can pull images on this machine, so the stack is proven without one: the
Dockerfile's build commands run in a clean copy of the project in the production profile, then
each compose service runs its own command (read from docker-compose.yml, never copied here) with
the environment compose would give it, and its own health check must pass against it. The two
service addresses (postgres, redis) point at this machine's servers; the database is a throwaway.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = pytest.mark.skipif(
    not (on_postgres and os.environ.get("REDIS_URL")),
    reason="needs PostgreSQL and Redis: set DATABASE_URL=postgres://… and REDIS_URL=redis://…",
)

# What an operator puts in .env (README: production with docker compose).
OPERATOR_ENV = {
    "SECRET_KEY": "deploy-test-" + "x" * 50,
    "ALLOWED_HOSTS": "escucha.example.org",
    "SITE_URL": "https://escucha.example.org",
}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: ${NAME}, ${NAME:-default}, ${NAME:?error} and $$."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        current = env.get(name, "")
        if op == ":-":
            return current or arg
        if op == ":?" and not current:
            raise AssertionError(f"compose would refuse to start: {arg}")
        return current

    value = re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value.replace("$$", "\0"))
    return value.replace("\0", "$")


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def dockerfile() -> tuple[dict[str, str], list[str], list[str]]:
    """(ENV values, the build's `python manage.py …` steps after COPY . ., the CMD argv)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    env: dict[str, str] = {}
    steps: list[str] = []
    cmd: list[str] = []
    copied = False
    for line in instructions:
        word, _sep, rest = line.partition(" ")
        if word == "ENV":
            env |= dict(part.split("=", 1) for part in shlex.split(rest))
        elif word == "COPY" and rest.split() == [".", "."]:
            copied = True
        elif word == "RUN" and copied:
            steps += [step.strip() for step in rest.split("&&") if "manage.py" in step]
        elif word == "CMD":
            cmd = json.loads(rest)
    return env, steps, cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_health_check(test: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess:
    kind, *args = test
    argv = ["sh", "-c", args[0].replace("$$", "$")] if kind == "CMD-SHELL" else args
    return subprocess.run(argv, env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def throwaway_database() -> Iterator[str]:
    import psycopg2

    base = settings.DATABASES["default"]
    name = f"escucha_deploy_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        dbname="postgres", user=base["USER"], password=base["PASSWORD"], host=base["HOST"], port=base["PORT"] or 5432
    )
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(os.environ["DATABASE_URL"])
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A clean copy of the project with the Dockerfile's build steps run in it."""
    app = tmp_path_factory.mktemp("image") / "app"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for relative in filter(None, tracked.decode().split("\0")):
        source = ROOT / relative
        if source.is_file():
            (app / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / relative)
    env_values, steps, _cmd = dockerfile()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(app),
        "LANG": "C.UTF-8",
        **env_values,
        "ESCUCHA_VAR_DIR": str(app / "var"),
    }
    assert env["ESCUCHA_PROFILE"] == "production"
    assert any("collectstatic" in step for step in steps) and any("compilemessages" in step for step in steps)
    for step in steps:
        done = subprocess.run(["sh", "-c", step], cwd=app, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"build step failed: {step}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert (app / "staticfiles" / "staticfiles.json").exists()
    return app, env


def service_env(image_env: Mapping[str, str], service: dict, database_url: str) -> dict[str, str]:
    """The environment compose gives a service, with postgres and redis at this machine's servers."""
    env = {**image_env, **OPERATOR_ENV, "HOSTNAME": socket.gethostname()}
    for name, value in service.get("environment", {}).items():
        env[name] = interpolate(str(value), {**os.environ, **OPERATOR_ENV})
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres" and urlsplit(env["REDIS_URL"]).hostname == "redis"
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def test_the_image_builds_and_every_compose_service_comes_up_healthy(image, throwaway_database):
    app, image_env = image
    services = compose_services()
    _env, _steps, cmd = dockerfile()

    migrate = services["migrate"]
    done = subprocess.run(
        migrate["command"],
        cwd=app,
        env=service_env(image_env, migrate, throwaway_database),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    port = free_port()
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, service in services.items():
            if "build" not in service or name == "migrate":
                continue  # postgres, redis, mailpit: this machine's own servers stand in for them
            argv = service.get("command") or cmd
            if name == "web":  # the container's port 8000, on a free port of this machine
                argv = [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in argv]
            processes[name] = subprocess.Popen(
                argv,
                cwd=app,
                env=service_env(image_env, service, throwaway_database),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        assert {"web", "beat"} <= set(processes)
        # Every queue a task is routed to has a worker service that consumes it: a queue nobody
        # reads is work that silently never happens.
        consumed = set()
        for name in processes:
            if name.startswith("worker"):
                argv = services[name]["command"]
                consumed |= set(argv[argv.index("-Q") + 1].split(","))
        routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {
            settings.CELERY_TASK_DEFAULT_QUEUE
        }
        assert routed <= consumed, f"queues without a worker: {sorted(routed - consumed)}"

        for name, process in processes.items():
            check = services[name].get("healthcheck", {})
            if check.get("disable"):
                time.sleep(3)
                assert process.poll() is None, f"{name} exited: {process.stderr.read().decode()[-2000:]}"
                continue
            test = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in check["test"]]
            env = service_env(image_env, services[name], throwaway_database)
            deadline = time.monotonic() + 120
            while True:
                result = run_health_check(test, env, app)
                if result.returncode == 0:
                    break
                assert process.poll() is None, f"{name} exited: {process.stderr.read().decode()[-3000:]}"
                assert time.monotonic() < deadline, f"{name} never became healthy: {result.stdout}{result.stderr}"
                time.sleep(2)

        # The health check is a real 200 (not a redirect to HTTPS), and pages find their hashed static files.
        health = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/healthz"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.stdout == "200"
        login = subprocess.run(
            ["curl", "-sS", "-H", "Host: escucha.example.org", "-H", "X-Forwarded-Proto: https",
             f"http://127.0.0.1:{port}/accounts/login/"],
            capture_output=True,
            text=True,
            timeout=30,
        )  # fmt: skip
        assert 'name="password"' in login.stdout
        assert re.search(r"/static/[\w/.-]+\.[0-9a-f]{12}\.(css|js)", login.stdout), "hashed static files"
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
