"""Poll channels now, in this process: to check a new channel, or to run without Celery."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.params import id_argument
from listening.models import Channel
from listening.polling import channel_poll, channels_claim_due


class Command(BaseCommand):
    help = "Poll channels now: the ones given with --channel, or every channel that is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--channel", type=id_argument, action="append", default=[], help="a channel id (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = options["channel"] or channels_claim_due()
        channels = list(Channel.objects.filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {channel.pk for channel in channels})
        if missing:
            raise CommandError(f"No channel with id {', '.join(map(str, missing))}.")
        if not channels:
            self.stdout.write("No channel is due.")
        for channel in channels:
            outcome = channel_poll(channel=channel)
            line = f"{channel.pk} {channel.name}: {outcome.created} new, {outcome.skipped} known, {outcome.pages} pages"
            if outcome.error:
                channel.refresh_from_db()
                self.stdout.write(self.style.ERROR(f"{line}; {channel.get_state_display()}: {outcome.error}"))
            else:
                self.stdout.write(self.style.SUCCESS(line))
