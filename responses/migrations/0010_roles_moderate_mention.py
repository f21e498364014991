"""Community managers hide and delete comments on their platform (config.roles is the source);
the Admin role holds every permission."""

from __future__ import annotations

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from config.roles import ADMIN, ROLE_PERMISSIONS

CODENAME = "moderate_mention"


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after all migrations ran; the groups need this one now.
    app_config = apps.get_app_config("listening")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(content_type__app_label="listening", codename=CODENAME).first()
    if permission is None:
        return
    for role, perms in ROLE_PERMISSIONS.items():
        if f"listening.{CODENAME}" in perms:
            group = Group.objects.filter(name=role).first()
            if group is not None:
                group.permissions.add(permission)
    admin = Group.objects.filter(name=ADMIN).first()
    if admin is not None:
        admin.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("responses", "0009_merge_profile_and_saved_reply_language"),
        ("listening", "0016_mention_moderation"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
