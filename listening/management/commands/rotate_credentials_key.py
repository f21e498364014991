"""Re-encrypt every stored secret with the current CREDENTIALS_KEY (or SECRET_KEY when unset).

Run it after setting the new key and listing the earlier one in CREDENTIALS_KEY_FALLBACKS (or
SECRET_KEY_FALLBACKS); once it reports nothing unreadable, the earlier key can be dropped.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from listening.fields import encrypted_fields, reencrypt


class Command(BaseCommand):
    help = "Re-encrypt stored credentials and secrets with the current key; earlier keys must be in the fallbacks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        unreadable: list[str] = []
        with transaction.atomic():
            for model, field in encrypted_fields():
                # The stored token as it is: reading the field itself would decrypt it, and an
                # unreadable one would read as empty and be written back empty.
                rows = (
                    model._default_manager.annotate(token=Cast(field.attname, TextField()))
                    .exclude(token="")
                    .exclude(token__isnull=True)
                    .values_list("pk", "token")
                    .select_for_update(of=("self",))
                )
                for pk, token in rows:
                    try:
                        fresh = reencrypt(token)
                    except InvalidToken:
                        unreadable.append(f"{model._meta.label} {pk} {field.name}")
                        continue
                    if not options["dry_run"]:
                        model._default_manager.filter(pk=pk).update(
                            **{field.attname: Value(fresh, output_field=TextField())}
                        )
                    rotated += 1
        verb = "would be re-encrypted" if options["dry_run"] else "re-encrypted with the current key"
        self.stdout.write(f"{rotated} stored secrets {verb}.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} stored secrets could not be read with the current key or any fallback "
                f"(left as they are; enter them again, or add the key they were stored with to "
                f"CREDENTIALS_KEY_FALLBACKS and run this again): {'; '.join(unreadable)}"
            )
