"""The roles' publishing permissions (config.roles is their source): community managers write and
approve posts, managers read them, the Admin role holds every permission."""

from __future__ import annotations

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from config.roles import ADMIN, ROLE_PERMISSIONS


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after all migrations ran; the groups need these now.
    app_config = apps.get_app_config("publishing")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    publishing = Permission.objects.filter(content_type__app_label="publishing")
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=role).first()
        codenames = [dotted.split(".")[1] for dotted in perms if dotted.startswith("publishing.")]
        if group is not None and codenames:
            group.permissions.add(*publishing.filter(codename__in=codenames))
    admin = Group.objects.filter(name=ADMIN).first()
    if admin is not None:
        admin.permissions.add(*publishing)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("responses", "0002_roles"),
        ("publishing", "0001_posts"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
