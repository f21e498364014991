"""The mention page: thread, author panel, controls, replies, presence and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from listening.models import Mention, MentionEvent, Platform, Sentiment
from responses.models import Reply
from responses.selectors import INFLUENCER_MIN_FOLLOWERS, REPEAT_COMPLAINER_MIN_NEGATIVE
from tests.factories import (
    AuthorFactory,
    ChannelFactory,
    MentionFactory,
    ReplyFactory,
    SavedReplyFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_presence():
    cache.clear()


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, name="Acme on X")


@pytest.fixture
def mention(channel):
    parent = MentionFactory(channel=channel, external_id="100", text="Our summer sale starts today")
    mention = MentionFactory(
        channel=channel,
        external_id="101",
        parent_external_id="100",
        text="My order never arrived",
        sentiment=Sentiment.NEGATIVE,
        analyzer_sentiment=Sentiment.NEGATIVE,
    )
    MentionFactory(channel=channel, external_id="102", parent_external_id="100", text="Same here, no parcel")
    assert parent
    return mention


def url(mention: Mention) -> str:
    return reverse("responses:mention_detail", args=[mention.pk])


def test_the_page_shows_the_thread_our_replies_and_the_history(client, team, mention):
    ReplyFactory(mention=mention, author=team.cm, text="Sorry, DM us", status=Reply.Status.SENT, external_id="t-9")
    MentionEvent.objects.create(mention=mention, actor=team.cm, kind="status", old_value="new", new_value="open")
    client.force_login(team.cm)
    body = client.get(url(mention)).content.decode()
    assert "Our summer sale starts today" in body  # the parent post
    assert "My order never arrived" in body
    assert "Same here, no parcel" in body  # another reply in the conversation
    assert "Sorry, DM us" in body and "t-9" in body
    assert "New → Open" in body
    assert 'href="https://example.com/status/101"' in body


def test_the_post_a_mention_answers_is_shown_with_its_author_when_linked_to_it(client, team, channel):
    author = AuthorFactory(name="Acme Store", handle="acmestore")
    parent = MentionFactory(channel=channel, external_id="200", text="Two new stores open", author=author)
    # Linked by the ingest's threading step, and the platform id not kept: only the link finds it.
    answer = MentionFactory(channel=channel, external_id="201", parent=parent, text="Where are they?")
    client.force_login(team.cm)
    body = client.get(url(answer)).content.decode()
    conversation = body[body.index('class="mention parent') :]
    assert "Two new stores open" in conversation
    assert "Acme Store" in conversation and "@acmestore" in conversation


def test_a_link_that_is_not_http_is_never_rendered_as_a_link(client, team, channel):
    evil = MentionFactory(channel=channel, url="javascript:alert(1)")
    client.force_login(team.cm)
    body = client.get(url(evil)).content.decode()
    assert "javascript:alert(1)" not in body
    assert "Open the original" not in body


def test_a_url_that_does_not_even_parse_leaves_the_pages_working(client, team, channel):
    broken = MentionFactory(channel=channel, url="http://[", author=AuthorFactory(profile_url="https://[::1"))
    client.force_login(team.cm)
    assert client.get(url(broken)).status_code == 200
    assert client.get(f"/authors/{broken.author_id}/").status_code == 200
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200 and 'href="http://["' not in inbox.content.decode()


def test_hostile_text_and_names_are_escaped(client, team, channel):
    author = AuthorFactory(name="<img src=x onerror=alert(1)>", handle="x<b>")
    evil = MentionFactory(channel=channel, author=author, text="<script>alert('x')</script>")
    client.force_login(team.cm)
    body = client.get(url(evil)).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_outsiders_get_404_and_department_staff_only_see_routed_mentions(client, team, mention):
    client.force_login(team.outsider)
    assert client.get(url(mention)).status_code == 404
    assert client.get(reverse("responses:author_detail", args=[mention.author_id])).status_code == 404
    client.force_login(team.billing_member)
    assert client.get(url(mention)).status_code == 404
    TicketFactory(mention=mention, department=team.billing)
    assert client.get(url(mention)).status_code == 200


def test_author_panel_lists_earlier_mentions_tickets_and_badges(client, team, channel):
    author = AuthorFactory(followers=INFLUENCER_MIN_FOLLOWERS, verified=True)
    facebook = ChannelFactory(brand=team.brand, platform=Platform.FACEBOOK, name="Acme Page")
    complaints = [
        MentionFactory(
            channel=facebook if i % 2 else channel, author=author, sentiment=Sentiment.NEGATIVE, text=f"bad {i}"
        )
        for i in range(REPEAT_COMPLAINER_MIN_NEGATIVE)
    ]
    TicketFactory(mention=complaints[0], department=team.billing, subject="Double charge")
    other_brand = MentionFactory(channel=ChannelFactory(brand=team.other_brand), author=author, text="secret globex")
    client.force_login(team.cm)
    body = client.get(url(complaints[-1])).content.decode()
    assert "bad 0" in body and "bad 1" in body and "Acme Page" in body
    assert "Double charge" in body
    assert "Influencer" in body and "Repeat complainer" in body and "verified" in body
    assert other_brand.text not in body


def test_old_complaints_do_not_make_a_repeat_complainer(client, team, channel):
    author = AuthorFactory(followers=10)
    long_ago = timezone.now() - timedelta(days=45)
    for _ in range(REPEAT_COMPLAINER_MIN_NEGATIVE):
        MentionFactory(channel=channel, author=author, sentiment=Sentiment.NEGATIVE, published_at=long_ago)
    recent = MentionFactory(channel=channel, author=author, sentiment=Sentiment.NEGATIVE)
    client.force_login(team.cm)
    body = client.get(url(recent)).content.decode()
    assert "Repeat complainer" not in body and "Influencer" not in body


def test_sentiment_correction_is_recorded_and_shown(client, team, mention):
    client.force_login(team.cm)
    response = client.post(
        reverse("responses:mention_update", args=[mention.pk]), {"field": "sentiment", "value": "neutral"}
    )
    assert response.status_code == 302
    mention.refresh_from_db()
    assert mention.sentiment == Sentiment.NEUTRAL and mention.sentiment_corrected_by == team.cm
    body = client.get(url(mention)).content.decode()
    assert f"corrected by {escape(team.cm.get_full_name())} from Negative" in body


def test_status_and_assignment_controls(client, team, mention):
    client.force_login(team.cm)
    update = reverse("responses:mention_update", args=[mention.pk])
    client.post(update, {"field": "assignee", "value": str(team.cm.pk)})
    client.post(update, {"field": "status", "value": "closed"})
    mention.refresh_from_db()
    assert mention.assignee == team.cm and mention.status == Mention.Status.CLOSED
    assert client.post(update, {"field": "assignee", "value": str(team.outsider.pk)}).status_code == 404
    client.force_login(team.manager)
    assert client.post(update, {"field": "status", "value": "open"}).status_code == 403


def test_sending_a_reply_queues_it_and_the_list_polls_until_delivered(client, team, mention, monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    client.force_login(team.cm)
    send = reverse("responses:reply_send", args=[mention.pk])
    response = client.post(
        send, {"text": "Sorry!", "loaded_at": timezone.now().isoformat()}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sorry!" in body and "Queued" in body and 'hx-trigger="every 2s"' in body
    assert 'id="composer"' in body and 'hx-swap-oob="true"' in body
    reply = Reply.objects.get()
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENT, external_id="777")
    version = re.search(r'id="live"[^>]*\?v=(\w+)', body).group(1)
    live = reverse("responses:mention_live", args=[mention.pk])
    listing = client.get(f"{live}?v={version}", headers={"HX-Request": "true"}).content.decode()
    assert "777" in listing and "every 2s" not in listing and "every 5s" in listing
    assert client.get(f"{live}?v={version}").status_code == 200  # changed since
    latest = re.search(r'id="live"[^>]*\?v=(\w+)', listing).group(1)
    assert client.get(f"{live}?v={latest}").status_code == 204  # nothing new: nothing sent


def test_a_failed_reply_shows_the_reason_and_a_retry_button(client, team, mention, monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    failed = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.FAILED, error="X said 403 duplicate")
    client.force_login(team.cm)
    body = client.get(url(mention)).content.decode()
    assert "X said 403 duplicate" in body and "Retry" in body
    client.post(reverse("responses:reply_retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.status == Reply.Status.QUEUED


def test_too_long_reply_comes_back_with_the_error_and_the_text(client, team, mention):
    client.force_login(team.cm)
    response = client.post(
        reverse("responses:reply_send", args=[mention.pk]), {"text": "y" * 300}, headers={"HX-Request": "true"}
    )
    assert response["HX-Retarget"] == "#composer"
    assert "allows 280" in response.content.decode() and "y" * 300 in response.content.decode()
    assert not Reply.objects.exists()


def test_someone_else_replied_since_the_page_loaded_asks_to_confirm(client, team, mention, monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    loaded = timezone.now() - timedelta(minutes=3)
    bruno_reply = ReplyFactory(mention=mention, author=team.manager, created_at=timezone.now() - timedelta(minutes=2))
    team.manager.first_name = "Marta"
    team.manager.save()
    client.force_login(team.cm)
    send = reverse("responses:reply_send", args=[mention.pk])
    response = client.post(send, {"text": "Hello", "loaded_at": loaded.isoformat()}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Marta replied 2\xa0minutes ago — send anyway?" in body
    assert Reply.objects.count() == 1
    client.post(
        send, {"text": "Hello", "loaded_at": loaded.isoformat(), "confirm": "1"}, headers={"HX-Request": "true"}
    )
    assert Reply.objects.exclude(pk=bruno_reply.pk).get().text == "Hello"


def test_presence_shows_who_else_has_the_mention_open(client, team, mention):
    client.force_login(team.manager)
    client.get(url(mention))
    client.force_login(team.cm)
    ping = client.post(reverse("responses:mention_presence", args=[mention.pk])).content.decode()
    assert "Also viewing:" in ping and team.manager.get_short_name() in ping
    client.force_login(team.manager)
    assert team.cm.get_short_name() in client.get(url(mention)).content.decode()


@pytest.mark.parametrize("who", ["billing_member", "manager"])
def test_department_members_and_managers_cannot_reply_unless_given_the_permission(client, team, mention, who):
    user = getattr(team, who)
    TicketFactory(mention=mention, department=team.billing)
    client.force_login(user)
    send = reverse("responses:reply_send", args=[mention.pk])
    assert client.post(send, {"text": "Hi"}).status_code == 403
    assert "Send reply" not in client.get(url(mention)).content.decode()
    user.user_permissions.add(Permission.objects.get(codename="add_reply"))
    user = type(user).objects.get(pk=user.pk)  # a fresh permission cache
    client.force_login(user)
    assert client.post(send, {"text": "Hi"}).status_code == 302
    assert Reply.objects.get().author == user


def test_approval_queue_for_community_managers(client, team, mention):
    held = ReplyFactory(mention=mention, author=team.manager, status=Reply.Status.PENDING_APPROVAL, text="draft")
    client.force_login(team.manager)
    assert client.get(reverse("responses:pending_replies")).status_code == 403
    client.force_login(team.outsider)
    assert "draft" not in client.get(reverse("responses:pending_replies")).content.decode()
    assert client.post(reverse("responses:reply_approve", args=[held.pk])).status_code == 404
    client.force_login(team.cm)
    assert "draft" in client.get(reverse("responses:pending_replies")).content.decode()
    assert "Approve" in client.get(url(mention)).content.decode()
    client.post(reverse("responses:reply_reject", args=[held.pk]), {"next": "pending"})
    held.refresh_from_db()
    assert held.status == Reply.Status.REJECTED


def test_saved_replies_are_offered_rendered_for_this_author(client, team, channel):
    author = AuthorFactory(name='Ana "<b>"', handle="ana")
    mention = MentionFactory(channel=channel, author=author)
    SavedReplyFactory(brand=team.brand, shortcut="dm", body="Hi {{ author.handle }} — {{ agent.first_name }}")
    client.force_login(team.cm)
    body = client.get(url(mention)).content.decode()
    assert 'value="dm" data-text="Hi @ana — ' in body


def test_a_feed_article_has_no_composer(client, team):
    article = MentionFactory(channel=ChannelFactory(brand=team.brand, platform=Platform.FEED))
    client.force_login(team.cm)
    body = client.get(url(article)).content.decode()
    assert "cannot be answered" in body and "Send reply" not in body


def test_author_page_pages_through_everything_they_said(client, team, channel):
    author = AuthorFactory()
    now = timezone.now()
    for i in range(30):
        MentionFactory(channel=channel, author=author, text=f"note {i:02d}", published_at=now - timedelta(minutes=i))
    client.force_login(team.cm)
    author_url = reverse("responses:author_detail", args=[author.pk])
    first = client.get(author_url)
    assert "note 00" in first.content.decode() and "note 25" not in first.content.decode()
    cursor = first.context["next_cursor"]
    second = client.get(author_url, {"before": cursor}).content.decode()
    assert "note 25" in second and "note 29" in second and "note 24" not in second


def test_the_page_costs_the_same_queries_with_many_replies_events_and_earlier_mentions(
    client, team, mention, django_assert_max_num_queries
):
    client.force_login(team.cm)
    client.get(url(mention))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(url(mention))
    for i in range(15):
        ReplyFactory(mention=mention, author=team.cm if i % 2 else team.manager, status=Reply.Status.SENT)
        MentionEvent.objects.create(mention=mention, actor=team.cm, kind="note", note=f"n{i}")
        MentionFactory(channel=mention.channel, author=mention.author)
        TicketFactory(mention=mention, department=team.billing if i % 2 else team.support, status="closed")
    with django_assert_max_num_queries(len(few)):
        client.get(url(mention))


def test_api_root_lists_without_error(client, team):
    client.force_login(team.cm)
    assert client.get("/api/v1/").status_code == 200


def test_the_public_follow_up_starts_from_the_resolution_and_closes_its_ticket(client, team, mention, monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    resolved = TicketFactory(
        mention=mention, department=team.billing, status="resolved", resolution="Refunded the second charge."
    )
    client.force_login(team.cm)
    follow_up = client.get("/follow-up/").content.decode()
    assert f"/mentions/{mention.pk}/?ticket={resolved.pk}#reply" in follow_up  # the query before the fragment
    page = client.get(f"{url(mention)}?ticket={resolved.pk}").content.decode()
    assert f'name="ticket" value="{resolved.pk}"' in page
    assert ">Refunded the second charge.</textarea>" in page
    client.post(
        reverse("responses:reply_send", args=[mention.pk]),
        {"text": "We refunded the second charge, sorry!", "ticket": resolved.pk, "confirm": "1"},
    )
    assert Reply.objects.get(mention=mention).ticket_id == resolved.pk
    # Another brand's ticket id, or a ticket of another mention, is not taken up.
    other = TicketFactory(mention=MentionFactory(channel=mention.channel), department=team.billing, status="resolved")
    assert 'name="ticket"' not in client.get(f"{url(mention)}?ticket={other.pk}").content.decode()


def test_the_inbox_language_filter_lists_codes_and_filters(client, team, channel):
    MentionFactory(channel=channel, text="Me encanta Acme", language="es")
    MentionFactory(channel=channel, text="I love Acme", language="en")
    client.force_login(team.cm)
    page = client.get("/inbox/").content.decode()
    assert '<option value="es"' in page and "bidi" not in page
    filtered = client.get("/inbox/?language=es").content.decode()
    assert "Me encanta Acme" in filtered and "I love Acme" not in filtered
