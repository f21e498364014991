"""A person's private calendar subscription: a secret address, shown once, that serves without a
sign-in the iCalendar of the posts of the brands they may see; reset and revoked from the calendar."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from publishing.models import CalendarFeed, Post, PostTarget


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def subscribe(user, brand) -> str:
    page = client_for(user).post(reverse("publishing:calendar_subscription"), {"brand": brand.pk, "action": "create"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "shown only this once" in html
    return html.split('id="subscription-address"')[1].split('value="')[1].split('"')[0]


def timed(brand, author, channel, text: str) -> Post:
    post = Post.objects.create(brand=brand, author=author, text=text, scheduled_at=timezone.now() + timedelta(days=1))
    PostTarget.objects.create(post=post, channel=channel, text=text)
    return post


def test_a_subscription_serves_the_posts_of_the_persons_brands_without_a_session(team, x_channel):
    from tests.factories import ChannelFactory

    timed(team.brand, team.cm, x_channel, "Ours; planned")
    other = ChannelFactory(brand=team.other_brand, name="Globex on X")
    timed(team.other_brand, team.outsider, other, "Theirs")
    address = subscribe(team.manager, team.brand)
    assert "/posts/calendar/feed/" in address and address.endswith(".ics")
    token = address.rsplit("/", 1)[1].removesuffix(".ics")
    # Only its digest is kept.
    assert CalendarFeed.objects.get(user=team.manager).token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(CalendarFeed.objects.values()))

    response = Client().get(address)  # a calendar app: no cookie, no login
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode().replace("\r\n ", "")
    assert "SUMMARY:Ours\\; planned" in body and "Theirs" not in body
    assert response["Cache-Control"] == "private, max-age=300"
    assert CalendarFeed.objects.get(user=team.manager).last_used_at is not None
    calendar = client_for(team.manager).get(reverse("publishing:post_calendar") + f"?brand={team.brand.pk}")
    html = calendar.content.decode()
    assert "You have a private subscription address" in html and token not in html  # never shown again

    # A wrong token, and one whose owner lost access, read nothing.
    assert Client().get(address.replace(token, token[:-2] + "xx")).status_code == 404
    team.manager.is_active = False
    team.manager.save()
    assert Client().get(address).status_code == 404


def test_resetting_or_revoking_the_address_stops_the_old_one(team, x_channel):
    timed(team.brand, team.cm, x_channel, "Planned")
    first = subscribe(team.cm, team.brand)
    second = subscribe(team.cm, team.brand)
    assert first != second
    assert Client().get(first).status_code == 404 and Client().get(second).status_code == 200
    client_for(team.cm).post(reverse("publishing:calendar_subscription"), {"brand": team.brand.pk, "action": "revoke"})
    assert Client().get(second).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_people_who_cannot_read_posts_get_no_subscription(team):
    response = client_for(team.billing_member).post(reverse("publishing:calendar_subscription"), {"action": "create"})
    assert response.status_code == 403
    assert Client().get(reverse("publishing:calendar_subscription")).status_code in (302, 405)
