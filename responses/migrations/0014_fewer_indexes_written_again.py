import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """A ticket's assignee indexed only where there is one: tickets routing opens have none, and
    opening them wrote every one into the index."""

    dependencies = [
        ("responses", "0013_members_restamp_brand"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Only the index: an AlterField would also drop and re-add the foreign key, checking
            # every row again.
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "responses_ticket_assignee_id_60ae5036"',
                    'CREATE INDEX "responses_ticket_assignee_id_60ae5036" ON "responses_ticket" ("assignee_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("assignee__isnull", False)), fields=["assignee"], name="ticket_assignee_idx"
            ),
        ),
    ]
