"""Saved views belong to the inbox, which the responses app holds: the model leaves listening.

Only the app's bookkeeping changes here; the table is renamed to responses_savedview and every
row stays. responses.0005 takes the model up in its state.
"""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("listening", "0002_inbox")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="savedview", table="responses_savedview")],
            state_operations=[migrations.DeleteModel(name="SavedView")],
        ),
    ]
