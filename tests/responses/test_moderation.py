"""Hiding and deleting comments on their platform: the Graph call goes out through the real client
(against recorded answers), the mention shows the state, and its history says who and when."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from listening.models import Mention, MentionEvent, Platform
from responses.moderation import mention_moderate, mention_moderation_actions
from tests.factories import ChannelFactory, MentionFactory

COMMENT = "17950000000000011"
PATH = f"/v21.0/{COMMENT}"


@pytest.fixture
def comment(team, wire):
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": "17841400000000001", "graph_version": "v21.0"},
        credentials={"page_access_token": "PAGE_TOKEN"},
    )
    return MentionFactory(channel=channel, external_id=COMMENT, kind=Mention.Kind.COMMENT, text="<b>spam</b> link")


def test_a_community_manager_hides_a_comment_and_the_history_says_who(team, wire, comment):
    wire.add("POST", PATH, fixture="instagram/comment_success.json")
    assert mention_moderate(mention=comment, action="hide", actor=team.cm)
    (call,) = wire.calls(PATH)
    assert parse_qs(call.body.decode()) == {"hide": ["true"]}
    comment.refresh_from_db()
    assert comment.moderation == Mention.Moderation.HIDDEN
    event = comment.events.get(kind=MentionEvent.Kind.MODERATED)
    assert (event.actor, event.old_value, event.new_value) == (team.cm, "", "hidden")
    assert mention_moderation_actions(comment) == ["unhide", "delete"]
    # Hiding what is hidden asks nothing of the platform and records nothing.
    assert not mention_moderate(mention=comment, action="hide", actor=team.cm)
    assert len(wire.calls(PATH)) == 1


def test_showing_again_and_deleting_leave_no_action_after_the_delete(team, wire, comment):
    wire.add("POST", PATH, fixture="instagram/comment_success.json")
    wire.add("DELETE", PATH, fixture="instagram/comment_success.json")
    mention_moderate(mention=comment, action="hide", actor=team.cm)
    mention_moderate(mention=comment, action="unhide", actor=team.cm)
    mention_moderate(mention=comment, action="delete", actor=team.cm)
    comment.refresh_from_db()
    assert comment.moderation == Mention.Moderation.DELETED
    assert list(comment.events.values_list("new_value", flat=True)) == ["hidden", "", "deleted"]
    assert mention_moderation_actions(comment) == []
    assert comment.text == "<b>spam</b> link"  # what was said is kept, as every other mention's


def test_without_the_permission_nothing_reaches_the_platform(team, wire, comment):
    with pytest.raises(PermissionDenied):
        mention_moderate(mention=comment, action="delete", actor=team.manager)
    assert wire.calls(PATH) == []


def test_a_refusal_leaves_the_mention_as_it_was_and_says_why(team, wire, comment):
    wire.add("DELETE", PATH, fixture="instagram/error_190.json", status=400)
    with pytest.raises(ValidationError) as error:
        mention_moderate(mention=comment, action="delete", actor=team.cm)
    assert "Instagram did not make the change" in error.value.messages[0]
    assert "PAGE_TOKEN" not in error.value.messages[0]
    comment.refresh_from_db()
    assert comment.moderation == "" and not comment.events.exists()


def test_only_comments_on_a_platform_that_moderates_them_offer_it(team):
    tweet = MentionFactory(channel=ChannelFactory(brand=team.brand, platform=Platform.X), kind=Mention.Kind.COMMENT)
    tagged = MentionFactory(
        channel=ChannelFactory(brand=team.brand, platform=Platform.INSTAGRAM), kind=Mention.Kind.MENTION
    )
    page_comment = MentionFactory(
        channel=ChannelFactory(brand=team.brand, platform=Platform.FACEBOOK), kind=Mention.Kind.REPLY
    )
    assert mention_moderation_actions(tweet) == []
    assert mention_moderation_actions(tagged) == []
    assert mention_moderation_actions(page_comment) == ["hide", "delete"]
    with pytest.raises(ValidationError):
        mention_moderate(mention=tagged, action="hide", actor=team.cm)


def test_the_mention_page_offers_the_buttons_and_shows_the_state(client, team, wire, comment):
    client.force_login(team.cm)
    page = client.get(reverse("responses:mention_detail", args=[comment.pk])).content.decode()
    assert "Hide on Instagram" in page and "Delete on Instagram" in page
    wire.add("POST", PATH, fixture="instagram/comment_success.json")
    response = client.post(reverse("responses:mention_moderate", args=[comment.pk]), {"action": "hide"}, follow=True)
    page = response.content.decode()
    assert "Hidden on the platform" in page and "Show again on Instagram" in page
    assert "Moderated on the platform: Visible on the platform → Hidden on the platform" in page
    inbox = client.get(reverse("responses:inbox")).content.decode()
    assert "Hidden on the platform" in inbox


def test_the_page_offers_nothing_to_a_manager_and_refuses_the_post(client, team, wire, comment):
    client.force_login(team.manager)
    page = client.get(reverse("responses:mention_detail", args=[comment.pk])).content.decode()
    assert "Hide on Instagram" not in page
    response = client.post(reverse("responses:mention_moderate", args=[comment.pk]), {"action": "hide"})
    assert response.status_code == 403
    assert wire.calls(PATH) == []


def test_another_brands_comment_is_not_found(client, team, wire, comment):
    client.force_login(team.outsider)
    response = client.post(reverse("responses:mention_moderate", args=[comment.pk]), {"action": "delete"})
    assert response.status_code == 404
    assert wire.calls(PATH) == []


def test_the_api_moderates_as_the_page_does(team, wire, comment):
    from rest_framework.test import APIClient

    url = f"/api/v1/mentions/{comment.pk}/moderate/"
    api = APIClient()
    api.force_authenticate(team.cm)
    wire.add("DELETE", PATH, fixture="instagram/comment_success.json")
    response = api.post(url, {"action": "delete"}, format="json")
    assert response.status_code == 200
    assert response.json()["moderation"] == "deleted"
    assert api.get(f"/api/v1/mentions/{comment.pk}/").json()["moderation"] == "deleted"
    # Nothing more to do on a deleted comment: said on the field, in the API's one error shape.
    response = api.post(url, {"action": "hide"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["action"]
    assert api.post(url, {"action": "ban"}, format="json").status_code == 400
    assert api.post(url, {"action": "delete", "extra": 1}, format="json").status_code == 400

    manager = APIClient()
    manager.force_authenticate(team.manager)
    assert manager.post(url, {"action": "unhide"}, format="json").status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(team.outsider)
    assert outsider.post(url, {"action": "unhide"}, format="json").status_code == 404
    assert len(wire.calls(PATH)) == 1
