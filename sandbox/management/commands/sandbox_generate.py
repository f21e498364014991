from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.generator import generate


class Command(BaseCommand):
    help = "Post realistic items about Acme on the sandbox platforms (X, Facebook, Instagram, YouTube, LinkedIn, RSS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=20, help="How many items to post (default 20).")
        parser.add_argument(
            "--days", type=float, default=0, help="Spread them over this many past days (default: now)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable set.")

    def handle(self, *args: Any, count: int, days: float, seed: int | None, **options: Any) -> None:
        if count < 1 or count > 10000:
            raise CommandError("--count must be between 1 and 10000.")
        if days < 0:
            raise CommandError("--days cannot be negative.")
        posts = generate(count, spread=timedelta(days=days) if days else None, seed=seed)
        by_platform: dict[str, int] = {}
        for post in posts:
            by_platform[post.platform] = by_platform.get(post.platform, 0) + 1
        summary = ", ".join(f"{platform} {n}" for platform, n in sorted(by_platform.items()))
        self.stdout.write(self.style.SUCCESS(f"Posted {len(posts)} sandbox items ({summary})."))
