"""Saved views come from listening (listening.0003 renamed their table): the model joins this app's
state over the table as it is, and the content type follows so its permissions keep their holders."""

from __future__ import annotations

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def move_content_type(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="responses", model="savedview").exists():
        ContentType.objects.using(db).filter(app_label="listening", model="savedview").update(app_label="responses")


def restore_content_type(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="listening", model="savedview").exists():
        ContentType.objects.using(db).filter(app_label="responses", model="savedview").update(app_label="listening")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("listening", "0003_savedview_to_responses"),
        ("responses", "0004_merge_0003_replies_0003_routing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SavedView",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        ("query", models.CharField(blank=True, max_length=2000, verbose_name="filters")),
                        ("shared", models.BooleanField(default=False, verbose_name="shared with the brand")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "brand",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="saved_views",
                                to="listening.brand",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="saved_views",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "saved view",
                        "verbose_name_plural": "saved views",
                        "ordering": ["name", "id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "name"), name="saved_view_unique_per_user")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
