from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from listening import pipeline
        from publishing import comments, tasks  # noqa: F401 - tasks: registered for queueing by name

        # Comments on the brand's own posts are linked to them as they are stored, history too.
        pipeline.register(comments.link_post_comments, history=True)
