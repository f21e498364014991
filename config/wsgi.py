from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

from config.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
settings_or_exit()
application = get_wsgi_application()
# gunicorn --preload (the image's command) loads this in its master, then forks its workers: kept
# out of the collector's reach, the objects of the loaded application are never written to by it,
# so the workers go on sharing their pages with the master instead of each copying them.
gc.freeze()
# An inbox page allocates thousands of objects: at Python's default of a young collection every 700
# (net) allocations, each request paid for about three, some 3 ms of its CPU; one every 5,000 cost
# about 1 ms a request (measured on the inbox's first page), and each stays a short young one.
GC_YOUNG_THRESHOLD = 5_000
gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
