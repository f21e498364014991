from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from publishing import tasks  # noqa: F401 - registered for queueing by name
