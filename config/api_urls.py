"""/api/v1/: one router; each app registers its viewsets in its own api.py."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from listening.api import register as register_listening
from publishing.api import register as register_publishing
from reports.api import register as register_reports
from responses.api import register as register_responses

router = DefaultRouter()
register_listening(router)
register_responses(router)
register_publishing(router)
register_reports(router)

urlpatterns = router.urls
extra_urlpatterns = []
