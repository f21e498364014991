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
