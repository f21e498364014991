from __future__ import annotations

from celery import shared_task
from django.conf import settings

from sandbox.generator import generate


# The name predates the sandbox's own app; beat schedules stored in the database still call it.
@shared_task(name="listening.sandbox_generate")
def sandbox_generate(count: int = 1) -> int:
    """Post ``count`` new items on the sandbox platforms (beat runs it while the sandbox is on)."""
    if not settings.SANDBOX_ENABLED:
        return 0
    return len(generate(count))
