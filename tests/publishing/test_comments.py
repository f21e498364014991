"""Comments on the brand's own published posts: polled like any mention through the real client
libraries, linked to the post as they are stored, named on the mention page, counted on the post
page and listed by the inbox filtered to them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listening import polling
from listening.connectors.base import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Platform
from publishing.models import Post, PostComment, PostTarget
from tests.factories import ChannelFactory
from tests.listening.connectors.test_facebook import SINCE, serve_page
from tests.publishing.conftest import X_CREDENTIALS, X_USER_ID

Status = PostTarget.Status
OUR_TWEET = "1861234567890124000"
OUR_PAGE_POST = "104857600000001_2201000000000003"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def published(team, channel, external_id: str, text: str = "Summer is here: 15% off #AcmeSummer") -> Post:
    post = Post.objects.create(brand=team.brand, author=team.cm, text=text)
    PostTarget.objects.create(post=post, channel=channel, text=text, status=Status.PUBLISHED, external_id=external_id)
    return post


@pytest.fixture
def page(team, wire):
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.FACEBOOK,
        name="Acme Page",
        api_base_url=wire.url,
        settings={"page_id": "104857600000001", "graph_version": "v21.0", "page_name": "Acme"},
        credentials={"page_access_token": "PAGE_TOKEN"},
        # Polled before, up to the day the recorded comments were written: a first poll reads
        # only the last week, which the recordings leave behind as the calendar moves on.
        cursor={"since": SINCE},
    )


def test_replies_in_the_conversation_a_published_x_post_started_are_linked_to_it(team, x_channel, wire):
    post = published(team, x_channel, OUR_TWEET)
    wire.add("GET", f"/2/users/{X_USER_ID}/mentions", fixture="x/mentions_on_our_post.json")

    polling.channel_poll(channel=x_channel)

    linked = dict(PostComment.objects.values_list("mention__external_id", "target__post_id"))
    # The direct reply, and the reply to a reply X names the conversation of; not the unrelated mention.
    assert linked == {"1861234567890124005": post.pk, "1861234567890124012": post.pk}
    mention = Mention.objects.get(external_id="1861234567890124005")
    page_html = client_for(team.cm).get(reverse("responses:mention_detail", args=[mention.pk])).content.decode()
    our_post = page_html.split('id="our-post"')[1].split("</p>")[0]
    assert "Comment on our post:" in our_post
    assert reverse("publishing:post_detail", args=[post.pk]) in our_post and "Summer is here" in our_post
    other = Mention.objects.get(external_id="1861234567890124001")
    assert (
        'id="our-post"'
        not in client_for(team.cm).get(reverse("responses:mention_detail", args=[other.pk])).content.decode()
    )


def test_comments_polled_from_the_page_are_counted_on_the_post_and_listed_by_the_inbox(team, page, wire):
    post = published(team, page, OUR_PAGE_POST)
    serve_page(wire)

    polling.channel_poll(channel=page)

    # Carlos's comment and Daniela's reply to it (the Page's own answer is not a mention).
    comments = set(Mention.objects.filter(post_comment__target__post=post).values_list("external_id", flat=True))
    assert comments == {"2201000000000003_3300000000000001", "2201000000000003_3300000000000002"}
    cm = client_for(team.cm)
    detail = cm.get(reverse("publishing:post_detail", args=[post.pk])).content.decode()
    section = detail.split('id="post-comments"')[1].split("</section>")[0]
    assert "2 comments in the inbox." in section
    link = f"{reverse('responses:inbox')}?brand={team.brand.pk}&amp;post={post.pk}&amp;tab=all"
    assert link in section
    inbox = cm.get(link.replace("&amp;", "&")).content.decode()
    assert "Me hicieron un cobro doble" in inbox and "A mí me pasó lo mismo" in inbox
    assert "Lucía" not in inbox  # a visitor's post on the Page, not a comment on ours
    assert "Comments on our post" in inbox  # the filter's chip, removable
    api = cm.get(f"/api/v1/mentions/?post={post.pk}").json()
    assert {row["external_id"] for row in api["results"]} == comments


def test_a_post_of_another_brand_with_the_same_id_is_not_linked(team, wire):
    foreign = ChannelFactory(brand=team.other_brand, platform=Platform.X, name="Globex on X", settings={"user_id": "9"})
    published(team, foreign, OUR_TWEET)
    ours = ChannelFactory(
        brand=team.brand, platform=Platform.X, api_base_url=wire.url, settings={"user_id": X_USER_ID},
        credentials=X_CREDENTIALS,
    )  # fmt: skip
    wire.add("GET", f"/2/users/{X_USER_ID}/mentions", fixture="x/mentions_on_our_post.json")
    polling.channel_poll(channel=ours)
    assert Mention.objects.filter(channel=ours).count() == 3
    assert not PostComment.objects.exists()


def test_linking_a_batch_costs_the_same_few_statements_whatever_its_size(team, x_channel):
    post = published(team, x_channel, OUR_TWEET)

    def batch(start: int, size: int) -> list[FetchedItem]:
        return [
            FetchedItem(
                external_id=str(start + n),
                text=f"@acme reply {n}",
                author=FetchedAuthor(external_id=f"a{n}", handle=f"person{n}"),
                published_at=post.created_at,
                kind="reply",
                parent_external_id=OUR_TWEET if n % 2 else str(start + n - 1),
                thread_root=OUR_TWEET,
            )
            for n in range(size)
        ]

    def statements(items: list[FetchedItem]) -> int:
        with CaptureQueriesContext(connection) as queries:
            ingest_items(channel=x_channel, items=items)
        return sum("publishing_post" in q["sql"] for q in queries.captured_queries)

    assert statements(batch(10_000, 5)) == statements(batch(20_000, 200))
    assert PostComment.objects.filter(target__post=post).count() == 205


def test_a_batch_finds_the_posts_it_answers_in_one_read(team, x_channel):
    from publishing.comments import link_post_comments

    post = published(team, x_channel, OUR_TWEET)
    items = [
        FetchedItem(
            external_id=str(30_000 + n),
            text=f"@acme reply {n}",
            author=FetchedAuthor(external_id=f"a{n}", handle=f"person{n}"),
            published_at=post.created_at,
            kind="reply",
            parent_external_id=OUR_TWEET,
        )
        for n in range(3)
    ]
    created = ingest_items(channel=x_channel, items=items).created
    PostComment.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        link_post_comments(created)

    # The brands' published posts with their channels, then the links: two statements.
    assert len(queries) == 2
    assert PostComment.objects.filter(target__post=post).count() == 3


def test_a_reply_to_a_comment_linked_earlier_is_linked_and_a_page_of_its_own_threads_reads_no_links(
    team, x_channel, monkeypatch
):
    post = published(team, x_channel, OUR_TWEET)

    def item(external_id: str, parent: str) -> FetchedItem:
        return FetchedItem(
            external_id=external_id,
            text=f"@acme {external_id}",
            author=FetchedAuthor(external_id=f"a{external_id}", handle=f"p{external_id}"),
            published_at=post.created_at,
            kind="reply",
            parent_external_id=parent,
        )

    ingest_items(channel=x_channel, items=[item("c1", OUR_TWEET)])  # a comment on our post
    # A reply to it where the platform named no post: linked through its parent's link.
    ingest_items(channel=x_channel, items=[item("r1", "c1"), item("r2", "r1")])
    linked = set(PostComment.objects.filter(target__post=post).values_list("mention__external_id", flat=True))
    assert linked == {"c1", "r1", "r2"}

    # A page whose replies answer only mentions of the page itself: no link of an earlier
    # mention can matter, and none is looked up.
    def no_lookup(*args, **kwargs):
        raise AssertionError("looked up the links of earlier mentions")

    monkeypatch.setattr(PostComment.objects, "filter", no_lookup)
    ingest_items(channel=x_channel, items=[item("t1", "unknown"), item("t2", "t1"), item("t3", "t2")])
    monkeypatch.undo()
    assert Mention.objects.get(external_id="t3").parent.external_id == "t2"
    assert not PostComment.objects.filter(mention__external_id__in=["t1", "t2", "t3"]).exists()
