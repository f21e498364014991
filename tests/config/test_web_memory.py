"""gunicorn's workers share the application their master loaded instead of each loading its own."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.config.test_deploy import ROOT, dockerfile


def test_the_image_loads_the_application_once_before_forking_its_web_workers() -> None:
    _env, _steps, command = dockerfile()
    assert command[:2] == ["gunicorn", "config.wsgi:application"]
    assert "--preload" in command
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import gc, config.wsgi; print(gc.get_freeze_count())"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    # Frozen, the loaded objects are never written to by the collector, so their pages stay shared.
    assert int(loaded.stdout.split()[-1]) > 10_000


def test_a_web_worker_collects_its_young_objects_less_often_than_python_does_by_default() -> None:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import gc, config.wsgi; print(*gc.get_threshold())"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    young, middle, old = map(int, loaded.stdout.split()[-3:])
    assert young >= 5_000
    # Only the young generation's threshold moves: the older ones keep Python's defaults.
    assert (middle, old) == (10, 10)
