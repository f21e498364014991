"""Saved replies and saved views managed in the app by community managers, not in /admin/."""

from __future__ import annotations

import pytest
from django.test import Client

from responses.models import SavedReply, SavedView
from responses.selectors import saved_views_for_user
from tests.factories import ChannelFactory, MentionFactory, SavedReplyFactory

pytestmark = pytest.mark.django_db


def reply_form(team, **overrides) -> dict:
    return {
        "brand": team.brand.pk,
        "shortcut": "refund",
        "title": "Refund on its way",
        "language": "es",
        "body": "Hola {{ author.name }}, el reembolso está en camino. {{ agent.first_name }}",
        **overrides,
    }


# --- Saved replies --------------------------------------------------------------------------------
def test_a_community_manager_creates_a_saved_reply_with_its_language(client: Client, team) -> None:
    client.force_login(team.cm)
    assert client.get("/saved-replies/new/").status_code == 200
    response = client.post("/saved-replies/new/", reply_form(team, shortcut="/refund"))
    assert response.status_code == 302
    saved = SavedReply.objects.get()
    assert (saved.brand, saved.shortcut, saved.language, saved.created_by) == (team.brand, "refund", "es", team.cm)
    html = client.get("/saved-replies/").content.decode()
    assert "/refund" in html and "Refund on its way" in html


def test_an_unknown_variable_is_refused_and_nothing_typed_is_lost(client: Client, team) -> None:
    client.force_login(team.cm)
    typed = reply_form(team, body="Hola {{ author.nme }}, <b>gracias</b> {{ brand.name }}")
    response = client.post("/saved-replies/new/", typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "{{ author.nme }} is not a variable. Use: {{ author.name }}" in html
    # What was typed comes back, escaped, with the other fields.
    assert "Hola {{ author.nme }}, &lt;b&gt;gracias&lt;/b&gt; {{ brand.name }}</textarea>" in html
    assert 'value="Refund on its way"' in html and '<option value="es" selected>' in html
    assert not SavedReply.objects.exists()


def test_a_repeated_shortcut_is_a_field_error(client: Client, team) -> None:
    SavedReplyFactory(brand=team.brand, shortcut="refund")
    client.force_login(team.cm)
    response = client.post("/saved-replies/new/", reply_form(team))
    assert response.status_code == 400
    assert SavedReply.objects.count() == 1
    assert "already exists" in response.content.decode() or "already has" in response.content.decode()


def test_editing_and_deleting_a_saved_reply(client: Client, team) -> None:
    saved = SavedReplyFactory(brand=team.brand, shortcut="thanks")
    client.force_login(team.cm)
    client.post(f"/saved-replies/{saved.pk}/", reply_form(team, shortcut="thanks", title="Thanks!", language=""))
    saved.refresh_from_db()
    assert (saved.title, saved.language) == ("Thanks!", "")
    client.post(f"/saved-replies/{saved.pk}/delete/")
    assert not SavedReply.objects.exists()


def test_another_brands_saved_reply_is_not_found_and_not_offered(client: Client, team) -> None:
    theirs = SavedReplyFactory(brand=team.other_brand, shortcut="globex")
    client.force_login(team.cm)
    assert client.get(f"/saved-replies/{theirs.pk}/").status_code == 404
    assert client.post(f"/saved-replies/{theirs.pk}/delete/").status_code == 404
    assert "/globex" not in client.get("/saved-replies/").content.decode()
    # Nor can a form put one into another brand.
    response = client.post("/saved-replies/new/", reply_form(team, brand=team.other_brand.pk))
    assert response.status_code == 400 and not SavedReply.objects.filter(brand=team.other_brand, shortcut="refund")


def test_managers_and_department_staff_cannot_change_saved_replies(client: Client, team) -> None:
    for who in (team.manager, team.billing_member):
        client.force_login(who)
        assert client.get("/saved-replies/").status_code == 403
        assert client.post("/saved-replies/new/", reply_form(team)).status_code == 403


def test_the_composer_offers_the_saved_replies_of_the_mentions_language(client: Client, team) -> None:
    SavedReplyFactory(brand=team.brand, shortcut="gracias", language="es")
    SavedReplyFactory(brand=team.brand, shortcut="thanks", language="en")
    SavedReplyFactory(brand=team.brand, shortcut="anylanguage", language="")
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), language="es")
    client.force_login(team.cm)
    html = client.get(f"/mentions/{mention.pk}/").content.decode()
    assert 'value="gracias"' in html and 'value="anylanguage"' in html
    assert 'value="thanks"' not in html


# --- Saved views ----------------------------------------------------------------------------------
@pytest.fixture
def views(team):
    return [
        SavedView.objects.create(user=team.cm, brand=team.brand, name=name, query=query, position=i)
        for i, (name, query) in enumerate([("Angry", "sentiment=negative"), ("Mine", "tab=mine")])
    ]


def test_views_are_renamed_and_shared_with_the_team(client: Client, team, views) -> None:
    client.force_login(team.cm)
    angry = views[0]
    response = client.post(
        f"/saved-views/{angry.pk}/", {f"view-{angry.pk}-name": "Angry customers", f"view-{angry.pk}-shared": "on"}
    )
    assert response.status_code == 302
    angry.refresh_from_db()
    assert (angry.name, angry.shared) == ("Angry customers", True)
    # A colleague of the brand sees it, read-only, with who shared it.
    colleague = team.manager
    assert angry in saved_views_for_user(colleague)
    client.force_login(team.outsider)
    assert client.post(f"/saved-views/{angry.pk}/", {f"view-{angry.pk}-name": "Mine now"}).status_code == 404


def test_a_repeated_name_is_refused_and_the_typed_name_stays(client: Client, team, views) -> None:
    client.force_login(team.cm)
    angry = views[0]
    response = client.post(f"/saved-views/{angry.pk}/", {f"view-{angry.pk}-name": "Mine"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "You already have a view with that name." in html
    assert f'name="view-{angry.pk}-name" value="Mine"' in html
    angry.refresh_from_db()
    assert angry.name == "Angry"


def test_a_view_over_several_brands_cannot_be_shared(client: Client, team) -> None:
    view = SavedView.objects.create(user=team.cm, brand=None, name="Everything", query="")
    client.force_login(team.cm)
    response = client.post(
        f"/saved-views/{view.pk}/", {f"view-{view.pk}-name": "Everything", f"view-{view.pk}-shared": "on"}
    )
    assert response.status_code == 400 and "choose a brand" in response.content.decode()
    view.refresh_from_db()
    assert not view.shared


def test_views_are_reordered_and_the_inbox_lists_them_in_that_order(client: Client, team, views) -> None:
    client.force_login(team.cm)
    client.post(f"/saved-views/{views[1].pk}/move/", {"direction": "up"})
    assert [v.name for v in saved_views_for_user(team.cm)] == ["Mine", "Angry"]
    html = client.get("/inbox/").content.decode()
    assert html.index(">Mine</a>") < html.index(">Angry</a>")
    # A new view goes last.
    client.post("/inbox/views/", {"name": "Zero", "query": "sentiment=positive"})
    assert [v.name for v in saved_views_for_user(team.cm)] == ["Mine", "Angry", "Zero"]


def test_deleting_a_view(client: Client, team, views) -> None:
    client.force_login(team.cm)
    response = client.post(f"/saved-views/{views[0].pk}/delete/", follow=True)
    assert "View “Angry” deleted." in response.content.decode()
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Mine"]


def test_a_view_keeps_its_tab(client: Client, team) -> None:
    client.force_login(team.cm)
    client.post("/inbox/views/", {"name": "My queue", "query": "tab=mine&sentiment=negative"})
    assert SavedView.objects.get(name="My queue").query == "tab=mine&sentiment=negative"
