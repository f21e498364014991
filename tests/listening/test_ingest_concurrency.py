"""Pages of one channel stored by several workers at once (a burst of its webhooks): each reads its
texts while another stores, and every item is still stored once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from listening import ingest
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Channel, ErasureReason, Mention, Platform
from listening.privacy import mentions_erase
from tests.factories import ChannelFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WAIT = 5  # seconds a test waits for the other worker before it gives up on it


def item(external_id: str, text: str, minutes: int = 0) -> FetchedItem:
    return FetchedItem(
        external_id=external_id,
        text=text,
        author=FetchedAuthor(external_id=f"a{external_id}", handle=f"h{external_id}", followers=3),
        published_at=T0 + timedelta(minutes=minutes),
    )


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"})


def in_another_worker(work: Callable[[], None]) -> threading.Thread:
    """``work`` on a thread, with a database connection of its own, as another worker has."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


class Holder:
    """Another worker holding the channel's row locked, as while it stores a page of it."""

    def __init__(self) -> None:
        self.locked, self.done = threading.Event(), threading.Event()
        self.gave_up = False  # it waited ``WAIT`` seconds and let go by itself

    @property
    def held(self) -> bool:
        return self.locked.is_set() and not self.done.is_set() and not self.gave_up

    def release(self) -> None:
        self.done.set()


@contextmanager
def channel_locked_elsewhere(channel: Channel) -> Iterator[Holder]:
    """The channel's row locked by another worker until ``release()`` or the block's end (or until
    ``WAIT`` seconds pass)."""
    holder = Holder()

    def hold() -> None:
        with transaction.atomic():
            Channel.objects.select_for_update().get(pk=channel.pk)
            holder.locked.set()
            holder.gave_up = not holder.done.wait(WAIT)

    thread = in_another_worker(hold)
    assert holder.locked.wait(WAIT)
    try:
        yield holder
    finally:
        holder.release()
        thread.join()


def reading_calls(monkeypatch, on_read: Callable[[], None]) -> None:
    """Call ``on_read`` each time this thread's page reads a text (sentiment and intent)."""
    real = ingest.analyzer_for
    reader = threading.current_thread()

    def analyzer_for(brand_id: int):
        analyze = real(brand_id)

        def reading(*args):
            if threading.current_thread() is reader:
                on_read()
            return analyze(*args)

        return reading

    monkeypatch.setattr(ingest, "analyzer_for", analyzer_for)


def test_a_page_reads_its_texts_while_another_page_of_the_channel_is_being_stored(channel, monkeypatch):
    read_while_held: list[bool] = []
    with channel_locked_elsewhere(channel) as other:

        def on_read() -> None:
            read_while_held.append(other.held)
            other.release()  # the other page is stored; this one may store now

        reading_calls(monkeypatch, on_read)
        result = ingest_items(channel=channel, items=[item("1", "Acme charged me twice")])
    assert read_while_held == [True]
    assert [m.external_id for m in result.created] == ["1"]


def test_an_item_another_page_stored_while_this_one_was_read_is_stored_once(channel, monkeypatch):
    # The channel's newest item is later than both pages', so neither moves it.
    ingest_items(channel=channel, items=[item("0", "Acme is great", minutes=60)])
    other: list = []

    def the_other_page_stores_first() -> None:
        if not other:
            worker = in_another_worker(
                lambda: other.append(
                    ingest_items(channel=channel, items=[item("2", "late again"), item("3", "hello"), item("4", "hi")])
                )
            )
            worker.join(WAIT)

    reading_calls(monkeypatch, the_other_page_stores_first)
    mine = ingest_items(channel=channel, items=[item("1", "where is my order"), item("2", "late"), item("3", "hey")])

    assert [m.external_id for m in other[0].created] == ["2", "3", "4"]
    assert [m.external_id for m in mine.created] == ["1"] and mine.skipped == 2
    stored = list(Mention.objects.filter(channel=channel).order_by("external_id").values_list("external_id", "text"))
    assert stored == [
        ("0", "Acme is great"),
        ("1", "where is my order"),
        ("2", "late again"),
        ("3", "hello"),
        ("4", "hi"),
    ]


def test_a_redelivered_page_does_not_wait_for_the_channel(channel):
    ingest_items(channel=channel, items=[item("1", "Acme charged me twice"), item("2", "thanks Acme")])
    with channel_locked_elsewhere(channel) as other:
        again = ingest_items(channel=channel, items=[item("1", "Acme charged me twice"), item("2", "thanks Acme")])
        assert other.held  # it returned while the other worker still held the channel
    assert again.created == [] and again.skipped == 2
    assert Mention.objects.filter(channel=channel).count() == 2


def test_an_item_erased_while_its_page_was_read_is_not_stored_again(channel, monkeypatch):
    # The first erasure on the channel: the page read the channel before it was marked as having
    # erased mentions, and looks for its items after the item was renamed.
    ingest_items(channel=channel, items=[item("1", "my parcel never arrived")])
    real = ingest._channel_read

    def read_then_erased(pk: int) -> Channel:
        source = real(pk)
        if not source.has_erased_mentions:
            mentions_erase(mentions=Mention.objects.filter(channel=channel), reason=ErasureReason.REQUEST)
        return source

    monkeypatch.setattr(ingest, "_channel_read", read_then_erased)
    result = ingest_items(channel=channel, items=[item("1", "my parcel never arrived"), item("2", "hello")])

    assert [m.external_id for m in result.created] == ["2"] and result.skipped == 1
    assert not Mention.objects.filter(text__contains="parcel").exists()
