"""gunicorn's workers share the application their master loaded instead of each loading its own."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.config.test_deploy import ROOT, dockerfile


def _after_loading(expression: str) -> list[str]:
    """What ``expression`` prints in a fresh process once it loaded the web application."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", f"import gc, config.wsgi; print({expression})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout.split()


def test_the_image_loads_the_application_once_before_forking_its_web_workers() -> None:
    _env, _steps, command = dockerfile()
    assert command[:2] == ["gunicorn", "config.wsgi:application"]
    assert "--preload" in command
    # Frozen, the loaded objects are never written to by the collector, so their pages stay shared.
    assert int(_after_loading("gc.get_freeze_count()")[-1]) > 10_000


def test_a_web_worker_collects_its_young_objects_less_often_than_python_does_by_default() -> None:
    young, middle, old = map(int, _after_loading("*gc.get_threshold()")[-3:])
    assert young >= 5_000
    # Only the young generation's threshold moves: the older ones keep Python's defaults.
    assert (middle, old) == (10, 10)
