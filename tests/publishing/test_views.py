"""The composer, the post page and the approval, as people use them: forms posted by the test client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import COMMUNITY_MANAGER
from listening.models import Platform, TrackedTerm
from publishing.models import Post, PostTarget
from tests.factories import ChannelFactory, MembershipFactory, TrackedTermFactory, UserFactory

Status = PostTarget.Status


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def approver(team):
    user = UserFactory(username="alba", roles=[COMMUNITY_MANAGER])
    MembershipFactory(brand=team.brand, user=user)
    return user


def compose(client: Client, team, channels, **fields) -> object:
    data = {"brand": team.brand.pk, "channels": [c.pk for c in channels], "text": "Hello", **fields}
    return client.post(reverse("publishing:post_create"), data)


def test_the_composer_lists_only_channels_that_can_be_posted_to_and_says_why(team, x_channel, fb_channel):
    ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme videos")
    ChannelFactory(brand=team.brand, platform=Platform.FEED, name="Press feed")
    page = client_for(team.cm).get(reverse("publishing:post_create") + f"?brand={team.brand.pk}").content.decode()
    assert f'value="{x_channel.pk}"' in page and f'value="{fb_channel.pk}"' in page
    assert "cannot be posted to from Escucha" in page
    assert "Acme videos (YouTube)" in page and "Press feed (RSS / Atom feed)" in page
    assert 'name="channels" value' not in page.split("Acme videos")[1][:200]


def test_a_post_written_in_the_composer_is_scheduled_in_the_brands_time_zone(team, x_channel, fb_channel):
    team.brand.time_zone = "Europe/Madrid"
    team.brand.save()
    summer = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.CAMPAIGN, text="#AcmeSummer")
    response = compose(
        client_for(team.cm),
        team,
        [x_channel, fb_channel],
        text="A long Page text " * 20,
        **{f"text_{x_channel.pk}": "Short for X"},
        link="https://shop.acme.com/summer",
        campaign=summer.pk,
        publish_at="2026-12-01T09:30",
        submit="1",
    )
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("publishing:post_detail", args=[post.pk])
    assert post.scheduled_at.isoformat() == "2026-12-01T08:30:00+00:00"  # 9:30 in Madrid, in winter
    assert dict(post.targets.values_list("channel__platform", "status")) == {"x": "scheduled", "facebook": "scheduled"}
    page = client_for(team.cm).get(response["Location"]).content.decode()
    assert "2026-12-01 09:30 (Europe/Madrid)" in page
    assert "Short for X https://shop.acme.com/summer" in page  # X carries the link in its text
    assert "35 of 280 characters" in page  # 11 + 1 + 23


def test_a_too_long_post_comes_back_with_everything_typed_and_the_count(team, x_channel):
    response = compose(client_for(team.cm), team, [x_channel], text="日" * 141)
    assert response.status_code == 400
    page = response.content.decode()
    assert "282 characters long as X (Twitter) counts them; it allows 280" in page
    assert "日" * 141 in page and not Post.objects.exists()


def test_another_community_manager_approves_asks_for_changes_or_rejects(team, x_channel, approver):
    team.brand.require_post_approval = True
    team.brand.save()
    compose(client_for(team.cm), team, [x_channel], text="<script>alert(1)</script> Summer", submit="1")
    post = Post.objects.get()
    detail = reverse("publishing:post_detail", args=[post.pk])
    decide = reverse("publishing:post_decide", args=[post.pk])

    own = client_for(team.cm).get(detail).content.decode()
    assert 'id="approval"' not in own  # its author cannot approve it
    assert client_for(team.cm).post(decide, {"decision": "approve"}).status_code == 302
    assert post.targets.get().status == Status.PENDING_APPROVAL

    listing = client_for(approver).get(reverse("publishing:post_list") + f"?brand={team.brand.pk}").content.decode()
    assert 'id="waiting"' in listing and "&lt;script&gt;" in listing and "<script>alert" not in listing
    page = client_for(approver).get(detail).content.decode()
    assert 'id="approval"' in page and "&lt;script&gt;alert(1)&lt;/script&gt; Summer" in page

    client_for(approver).post(decide, {"decision": "changes", "comment": ""})
    assert post.targets.get().status == Status.PENDING_APPROVAL  # a comment is needed
    client_for(approver).post(decide, {"decision": "changes", "comment": "Add the hashtag"})
    assert post.targets.get().status == Status.DRAFT
    assert "Add the hashtag" in client_for(team.cm).get(detail).content.decode()

    client_for(team.cm).post(reverse("publishing:post_submit", args=[post.pk]))
    client_for(approver).post(decide, {"decision": "approve", "comment": "Good to go"})
    assert post.targets.get().status == Status.APPROVED
    kinds = list(post.events.values_list("kind", "actor__username"))
    assert kinds == [
        ("created", "carla"),
        ("submitted", "carla"),
        ("changes", "alba"),
        ("submitted", "carla"),
        ("approved", "alba"),
    ]


def test_people_see_and_act_on_their_brands_posts_only(team, x_channel):
    compose(client_for(team.cm), team, [x_channel])
    post = Post.objects.get()
    detail = reverse("publishing:post_detail", args=[post.pk])
    assert client_for(team.outsider).get(detail).status_code == 404
    assert client_for(team.billing_member).get(detail).status_code == 403
    assert client_for(team.manager).get(detail).status_code == 200  # managers read them
    assert client_for(team.manager).post(reverse("publishing:post_submit", args=[post.pk])).status_code == 403
    response = client_for(team.outsider).post(
        reverse("publishing:post_create"), {"brand": team.brand.pk, "channels": [x_channel.pk], "text": "Hi"}
    )
    assert response.status_code == 404 and Post.objects.count() == 1


def test_the_navigation_and_the_pages_speak_spanish(team, x_channel):
    compose(client_for(team.cm), team, [x_channel])
    client = client_for(team.cm, "es")
    listing = client.get(reverse("publishing:post_list")).content.decode()
    assert "Publicaciones" in listing and "Borrador" in listing
    assert "Escribir una publicación" in client.get(reverse("publishing:post_create")).content.decode()


def test_comments_on_a_published_post_reach_the_inbox_and_are_listed_on_the_post(team, fb_channel):
    import json

    from listening.connectors.facebook import parse_webhook
    from listening.ingest import ingest_items
    from tests.listening.connectors.conftest import fixture_bytes

    post = Post.objects.create(brand=team.brand, author=team.cm, text="Summer")
    PostTarget.objects.create(
        post=post,
        channel=fb_channel,
        text="Summer",
        status=Status.PUBLISHED,
        external_id="104857600000001_2201000000000003",
    )
    payload = json.loads(fixture_bytes("facebook/webhook_comment_add.json"))
    ingest_items(channel=fb_channel, items=parse_webhook(payload, "104857600000001"))  # the Page's webhook

    page = client_for(team.cm).get(reverse("publishing:post_detail", args=[post.pk])).content.decode()
    comments = page.split('id="post-comments"')[1].split("</section>")[0]
    assert "No la encuentro en la web" in comments and "Lucía Fernández" in comments
    assert "/mentions/" in comments  # each opens in the inbox, to be answered there
    # Managers read posts but do not work the inbox: no comments for them here.
    assert (
        'id="post-comments"'
        not in client_for(team.manager).get(reverse("publishing:post_detail", args=[post.pk])).content.decode()
    )
