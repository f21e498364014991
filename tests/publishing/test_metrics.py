"""How a post did: its public counts read through the real client libraries at 1 h, 24 h and 7 days."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from publishing.models import Post, PostMetrics, PostTarget, engagement
from publishing.services import posts_read_metrics

X_ID = "1862000000000000001"
PAGE_POST_ID = "104857600000001_990000000000001"


def published(team, channel, external_id: str, age: timedelta) -> PostTarget:
    post = Post.objects.create(brand=team.brand, author=team.cm, text="Summer")
    return PostTarget.objects.create(
        post=post,
        channel=channel,
        text="Summer",
        status=PostTarget.Status.PUBLISHED,
        external_id=external_id,
        published_at=timezone.now() - age,
    )


def test_counts_are_read_at_each_age_once_from_x_and_the_page(team, x_channel, fb_channel, wire):
    wire.add("GET", "/2/tweets", fixture="x/tweets_metrics.json")
    wire.add("GET", "/v21.0/", fixture="facebook/post_metrics.json")
    on_x = published(team, x_channel, X_ID, timedelta(hours=2))
    on_page = published(team, fb_channel, PAGE_POST_ID, timedelta(days=2))
    gone = published(team, x_channel, "1861000000000000000", timedelta(hours=3))  # deleted on X since
    fresh = published(team, x_channel, "1862000000000000555", timedelta(minutes=20))

    assert posts_read_metrics() == 3  # X at 1 h; the Page at 1 h and 24 h
    on_x.refresh_from_db()
    on_page.refresh_from_db()
    assert on_x.metrics["like_count"] == 148 and on_x.metrics["impression_count"] == 9321
    assert on_page.metrics == {"reactions": 86, "comments": 14, "shares": 9}
    assert engagement(on_x.metrics) == 148 + 12 + 7 + 2 and engagement(on_page.metrics) == 86 + 14 + 9
    assert set(on_page.readings.values_list("age", flat=True)) == {"1h", "24h"}
    assert not gone.readings.exists() and not fresh.readings.exists()

    [x_call] = wire.calls("/2/tweets")
    assert set(x_call.query["ids"].split(",")) == {X_ID, "1861000000000000000"}
    assert x_call.query["tweet.fields"] == "public_metrics"
    page_calls = wire.calls("/v21.0/")  # one per age due: 1 h, then 24 h
    assert len(page_calls) == 2
    page_call = page_calls[0]
    assert page_call.query["ids"] == PAGE_POST_ID and "reactions.summary(total_count)" in page_call.query["fields"]
    assert page_call.headers["authorization"] == "Bearer page-token"

    assert posts_read_metrics() == 0  # each age once
    assert PostMetrics.objects.count() == 3


def test_a_failing_platform_is_read_again_on_the_next_run(team, x_channel, wire):
    wire.add("GET", "/2/tweets", fixture="x/error_503.json", status=503)
    wire.add("GET", "/2/tweets", fixture="x/tweets_metrics.json")
    published(team, x_channel, X_ID, timedelta(hours=2))
    assert posts_read_metrics() == 0
    assert posts_read_metrics() == 1


def test_the_report_shows_our_posts_with_their_interactions_per_campaign_and_hour(team, x_channel, fb_channel):
    from django.test import Client

    from listening.models import TrackedTerm
    from tests.factories import TrackedTermFactory

    team.brand.time_zone = "Europe/Madrid"
    team.brand.save()
    summer = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.CAMPAIGN, text="#AcmeSummer")
    on_x = published(team, x_channel, X_ID, timedelta(hours=3))
    PostTarget.objects.filter(pk=on_x.pk).update(
        metrics={"like_count": 40, "retweet_count": 2, "impression_count": 900}
    )
    Post.objects.filter(pk=on_x.post_id).update(campaign=summer)
    on_page = published(team, fb_channel, PAGE_POST_ID, timedelta(hours=5))
    PostTarget.objects.filter(pk=on_page.pk).update(metrics={"reactions": 10, "comments": 3, "shares": 1})
    Post.objects.filter(pk=on_page.post_id).update(text="<img src=x onerror=alert(1)>")
    PostTarget.objects.filter(pk=on_page.pk).update(text="<img src=x onerror=alert(1)>")

    client = Client()
    client.force_login(team.manager)
    page = client.get(f"/reports/?brand={team.brand.pk}").content.decode()
    block = page.split('id="our-posts"')[1].split("</section>")[0]
    assert "2 posts published, 56 interactions (28.0 per post)." in block  # 42 on X, 14 on the Page
    assert "#AcmeSummer" in block and "No campaign" in block
    assert "&lt;img src=x" in block and "<img src=x" not in block
    assert "Best hours (Europe/Madrid)" in block


def test_a_page_post_deleted_since_does_not_keep_the_others_from_being_read(team, fb_channel, wire):
    """Graph fails a whole ``?ids=`` request when one of its ids is gone (a post the brand deleted
    on Facebook): the others are still read, and read once."""
    gone_id = "104857600000001_990000000000777"
    on_page = published(team, fb_channel, PAGE_POST_ID, timedelta(hours=2))
    gone = published(team, fb_channel, gone_id, timedelta(hours=2))
    wire.add(
        "GET", "/v21.0/", when={"ids": f"{PAGE_POST_ID},{gone_id}"}, fixture="facebook/object_gone.json", status=400
    )
    wire.add("GET", "/v21.0/", when={"ids": gone_id}, fixture="facebook/object_gone.json", status=400)
    wire.add("GET", "/v21.0/", when={"ids": PAGE_POST_ID}, fixture="facebook/post_metrics.json")

    assert posts_read_metrics() == 1
    on_page.refresh_from_db()
    assert on_page.metrics == {"reactions": 86, "comments": 14, "shares": 9}
    assert not gone.readings.exists()
    assert posts_read_metrics() == 0
