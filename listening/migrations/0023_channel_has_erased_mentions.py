from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0022_fewer_indexes_written_again"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="has_erased_mentions",
            field=models.BooleanField(default=False, editable=False),
        ),
        # The channels something was erased from already: one pass over the mentions.
        migrations.RunSQL(
            "UPDATE listening_channel SET has_erased_mentions = TRUE WHERE id IN "
            "(SELECT DISTINCT channel_id FROM listening_mention WHERE erased_at IS NOT NULL)",
            migrations.RunSQL.noop,
        ),
    ]
