from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(name="listening.sandbox_generate")
def sandbox_generate(count: int = 1) -> int:
    """Post ``count`` new items on the sandbox platforms (beat runs it while the sandbox is on)."""
    if not settings.SANDBOX_ENABLED:
        return 0
    from listening.sandbox.generator import generate

    return len(generate(count))
