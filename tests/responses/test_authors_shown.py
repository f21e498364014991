"""Authors as pages show them: a handle only where the platform has one, followers only when known."""

from __future__ import annotations

import pytest
from django.urls import reverse

from listening.models import Platform
from responses.tickets import ticket_open
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def facebook_mention(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.FACEBOOK)
    author = AuthorFactory(platform=Platform.FACEBOOK, name="Lucía Gómez", handle="", followers=0)
    return MentionFactory(channel=channel, author=author, text="Where is my parcel?")


def test_a_facebook_author_has_no_empty_handle_and_no_zero_followers(client, team, facebook_mention) -> None:
    ticket, _ = ticket_open(mention=facebook_mention, department=team.billing)
    client.force_login(team.cm)
    pages = {
        "mention": reverse("responses:mention_detail", args=[facebook_mention.pk]),
        "author": reverse("responses:author_detail", args=[facebook_mention.author_id]),
        "ticket": reverse("responses:ticket_detail", args=[ticket.pk]),
        "tickets": reverse("responses:ticket_list"),
        # Routed, it has left the Open queue: All shows it.
        "inbox": reverse("responses:inbox") + "?tab=all",
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert "Lucía Gómez" in html, name
        assert '<span class="handle">@</span>' not in html and "@</span>" not in html, name
        assert "0 followers" not in html, name


def test_an_x_author_shows_name_handle_and_a_known_follower_count(client, team) -> None:
    author = AuthorFactory(name="Dana Díaz", handle="danad", followers=1234)
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), author=author)
    client.force_login(team.cm)
    html = client.get(reverse("responses:mention_detail", args=[mention.pk])).content.decode()
    assert '<span class="author-name">Dana Díaz</span> <span class="handle">@danad</span>' in html
    assert "1,234 followers" in html
