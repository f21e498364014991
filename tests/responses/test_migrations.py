"""Saved views moved from listening to responses: a database with views in it keeps every one."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.migrations import migrated

BEFORE = [("listening", "0002_inbox"), ("responses", "0004_merge_0003_replies_0003_routing")]


@pytest.mark.django_db(transaction=True)
def test_saved_views_and_their_permissions_survive_the_move_between_apps():
    executor = migrated(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="carla")
    brand = old.get_model("listening", "Brand").objects.create(name="Acme", slug="acme")
    old.get_model("listening", "SavedView").objects.create(
        user=user, brand=brand, name="Angry today", query="sentiment=negative&since=today", shared=True
    )
    ContentType = old.get_model("contenttypes", "ContentType")
    old_type, _ = ContentType.objects.get_or_create(app_label="listening", model="savedview")
    permission, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=old_type, codename="change_savedview", defaults={"name": "Can change saved view"}
    )
    user.user_permissions.add(permission)

    executor = migrated(executor.loader.graph.leaf_nodes())

    from django.contrib.auth.models import Permission

    from responses.models import SavedView

    view = SavedView.objects.get()
    assert (view.name, view.query, view.shared, view.user_id, view.brand_id) == (
        "Angry today",
        "sentiment=negative&since=today",
        True,
        user.pk,
        brand.pk,
    )
    assert Permission.objects.get(pk=permission.pk).content_type.app_label == "responses"
    assert user.user_permissions.through.objects.filter(user_id=user.pk, permission_id=permission.pk).exists()
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "responses_savedview" in tables and "listening_savedview" not in tables


@pytest.mark.django_db(transaction=True)
def test_an_existing_install_gives_its_admin_role_the_webhook_permissions():
    """The Admin role holds every permission; an install from before the webhooks gets theirs too."""
    before = [("responses", "0006_notification_email_claim")]
    executor = migrated(before)
    old = executor.loader.project_state(before).apps
    # As on an install migrated before the webhook models existed: the role, and no permissions
    # for those models yet.
    old.get_model("auth", "Group").objects.get_or_create(name="Admin")
    old.get_model("auth", "Permission").objects.filter(content_type__model__startswith="webhook").delete()

    migrated(executor.loader.graph.leaf_nodes())

    from django.contrib.auth.models import Group

    admin = Group.objects.get(name="Admin")
    granted = set(admin.permissions.filter(content_type__app_label="responses").values_list("codename", flat=True))
    assert {
        "view_webhookendpoint",
        "change_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookdelivery",
    } <= granted
