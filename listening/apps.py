from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "listening"
    verbose_name = _("Listening")

    def ready(self) -> None:
        from listening import tasks  # noqa: F401 - registered for queueing by name
