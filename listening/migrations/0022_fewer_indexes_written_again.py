from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes a page of new mentions no longer writes: "assigned to me" holds only assigned
    mentions (a new one has no assignee), and the term links' own index on the mention, which the
    unique (mention, term) index already answers, leading with the mention."""

    dependencies = [
        ("listening", "0021_brand_configuration_stamp"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="mention", name="mention_assignee_idx"),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(
                condition=models.Q(("assignee__isnull", False)),
                fields=["assignee", "status", "-published_at"],
                name="mention_assignee_idx",
            ),
        ),
        # The table Django makes for Mention.terms: its indexes are not in the migrations' state.
        migrations.RunSQL(
            'DROP INDEX IF EXISTS "listening_mention_terms_mention_id_aea65255"',
            'CREATE INDEX "listening_mention_terms_mention_id_aea65255" ON "listening_mention_terms" ("mention_id")',
        ),
    ]
