from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.deletions import delete_some


class Command(BaseCommand):
    help = (
        "Delete people's items on the sandbox platforms, as they would delete a post or a comment: "
        "Facebook announces it by webhook at once, the other platforms tell on the next deletion check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=3, help="How many items to delete (default 3).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable choice.")

    def handle(self, *args: Any, count: int, seed: int | None, **options: Any) -> None:
        if count < 1 or count > 1000:
            raise CommandError("--count must be between 1 and 1000.")
        deleted = delete_some(count, rng=random.Random(seed))
        for post in deleted:
            self.stdout.write(f"{post.platform} {post.kind} {post.external_id}")
        self.stdout.write(self.style.SUCCESS(f"Deleted {len(deleted)} sandbox items."))
