from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from sandbox.deletions import delete_some
from sandbox.generator import generate


# The name predates the sandbox's own app; beat schedules stored in the database still call it.
@shared_task(name="listening.sandbox_generate")
def sandbox_generate(count: int = 1) -> int:
    """Post ``count`` new items on the sandbox platforms (beat runs it while the sandbox is on), and
    now and then delete one, as people do, so the demo shows deletions reaching Escucha."""
    if not settings.SANDBOX_ENABLED:
        return 0
    created = len(generate(count))
    if random.random() < settings.SANDBOX_DELETE_SHARE:
        delete_some(1)
    return created
