from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from listening import pipeline
        from listening.models import Mention
        from reports import rollups, tasks  # noqa: F401 - tasks: registered for queueing by name

        # New mentions are counted once stored, with what routing made of them (it runs before
        # they are stored, listening.pipeline); a later relabelling moves them through the change step.
        pipeline.register(rollups.rollups_add_mentions, first=True, history=True)
        pipeline.register_change(rollups.rollups_move_mentions)
        pipeline.register_erase(rollups.rollups_forget_mentions)
        pre_delete.connect(rollups.rollups_remove_mention, sender=Mention, dispatch_uid="reports.rollups_remove")
