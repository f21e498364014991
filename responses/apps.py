from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResponsesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "responses"
    verbose_name = _("Responses")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from listening import pipeline
        from responses import preferences, privacy, routing, tasks  # noqa: F401 - tasks: registered for queueing by name

        user_logged_in.connect(preferences.language_on_login, dispatch_uid="responses.language_on_login")

        # Every new mention is routed inside the transaction that stores it, before its row is
        # written (so it is written once, routed), then announced to the brand's webhooks, routed
        # already (what routing did is part of the announcement).
        pipeline.register(routing.mentions_route, before_store=True)
        pipeline.register(routing.mentions_announce_routed)

        # A person's export and erasure (listening.privacy) reach their tickets, replies and messages.
        pipeline.register_export(privacy.personal_data_export)
        pipeline.register_erase(privacy.personal_data_erase)
