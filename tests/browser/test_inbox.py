"""A community manager works the inbox in real Chromium: filters, keyboard, bulk close, hostile text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from listening.models import Mention, MentionEvent, Sentiment
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory

pytestmark = pytest.mark.django_db(transaction=True)


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_community_manager_filters_and_works_the_inbox_from_the_keyboard(team, login) -> None:
    channel = ChannelFactory(brand=team.brand)
    now = timezone.now()
    angry = [
        MentionFactory(
            channel=channel, sentiment=Sentiment.NEGATIVE, text=f"angry {i}", published_at=now - timedelta(minutes=i)
        )
        for i in range(3)
    ]
    MentionFactory(channel=channel, sentiment=Sentiment.POSITIVE, text="lovely product", published_at=now)
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, text="already taken", assignee=team.manager)
    page = login(team.cm)
    page.goto("/inbox/")
    assert page.get_by_text("lovely product").is_visible()

    page.select_option("#filters select[name=sentiment]", "negative")
    page.wait_for_url("**/inbox/?sentiment=negative")
    expect(page.locator("#mention-list > li.mention")).to_have_count(4)
    page.select_option("#filters select[name=assignee]", "none")
    page.wait_for_url("**/inbox/?sentiment=negative&assignee=none")
    expect(page.locator("#mention-list > li.mention")).to_have_count(3)
    assert not page.get_by_text("lovely product").is_visible()
    assert not page.get_by_text("already taken").is_visible()

    # j selects the first row, j the second; a assigns it to me, e closes it.
    page.keyboard.press("j")
    page.keyboard.press("j")
    second = page.locator(f"#mention-{angry[1].pk}")
    assert "current" in (second.get_attribute("class") or "")
    page.keyboard.press("a")
    second.get_by_text(team.cm.first_name or team.cm.username).wait_for()
    page.keyboard.press("e")
    page.locator(f"#mention-{angry[1].pk} .status").get_by_text("Closed").wait_for()
    angry[1].refresh_from_db()
    assert angry[1].assignee == team.cm and angry[1].status == Mention.Status.CLOSED
    # k goes back up; x selects; the first and third get closed together from the bar.
    page.keyboard.press("k")
    page.keyboard.press("x")
    page.locator(f"#mention-{angry[2].pk} input.select").check()
    assert page.locator("#selected-count").inner_text() == "2"
    page.locator("#bulk button[value=close]").click()
    page.locator("#bulk-result").get_by_text("2 mentions changed").wait_for()
    for mention in angry:
        mention.refresh_from_db()
        assert mention.status == Mention.Status.CLOSED
    assert MentionEvent.objects.filter(actor=team.cm, kind=MentionEvent.Kind.STATUS, new_value="closed").count() == 3

    # The URL holds the filters: the back button returns to the previous filter set.
    page.go_back()
    page.wait_for_url("**/inbox/?sentiment=negative")
    page.get_by_text("already taken").wait_for()


def test_keyboard_help_and_search_focus(team, login) -> None:
    page = login(team.cm)
    page.goto("/inbox/")
    page.keyboard.press("?")
    assert page.locator("#kbd-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#kbd-help").is_visible()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"


def test_script_injection_in_text_and_author_name_renders_as_plain_text(team, login) -> None:
    channel = ChannelFactory(brand=team.brand)
    author = AuthorFactory(name=IMG, handle="attacker", profile_url="javascript:alert(3)")
    MentionFactory(channel=channel, author=author, text=SCRIPT, title=IMG, url="javascript:alert(2)")
    page = login(team.cm)
    page.goto("/inbox/")
    row = page.locator("#mention-list > li.mention").first
    assert row.locator(".text").inner_text() == SCRIPT
    assert row.locator(".author-name").inner_text() == IMG
    assert row.locator("img").count() == 0
    assert row.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_new_mentions_show_as_a_counter_and_load_on_top_when_clicked(team, login) -> None:
    channel = ChannelFactory(brand=team.brand)
    first = MentionFactory(channel=channel, text="read this first", published_at=timezone.now() - timedelta(minutes=5))
    page = login(team.cm)
    page.goto("/inbox/")
    MentionFactory(channel=channel, text="just arrived")
    # The counter polls every 15 s, and at once when the tab comes back into view.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    counter = page.locator("#new-mentions").get_by_text("1 new mention")
    counter.wait_for()
    # Nothing moved under the reader: the list still starts with the row they were reading.
    assert page.locator("#mention-list > li.mention").first.get_attribute("id") == f"mention-{first.pk}"
    counter.click()
    page.locator("#mention-list > li.mention").first.get_by_text("just arrived").wait_for()
    assert page.locator("#mention-list > li.mention").count() == 2
    expect(page.locator("#new-mentions")).to_have_text("")
