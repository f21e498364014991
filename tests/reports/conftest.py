"""A small known week for the report tests: every number the report shows is worked out below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from listening.models import Mention, Platform, Sentiment, TrackedTerm
from reports.rollups import rollups_refresh
from reports.selectors import Period
from responses.models import Reply, Ticket
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory

POS, NEU, NEG, UNS = Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, Sentiment.UNSCORED
NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
PERIOD = Period(datetime(2026, 3, 1).date(), datetime(2026, 3, 7).date())


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Week:
    mentions: dict[int, Mention]
    tickets: dict[str, Ticket]
    terms: dict[str, TrackedTerm]


@pytest.fixture
def week(team) -> Week:
    with time_machine.travel(NOW, tick=False):
        return _build(team)


def _build(team) -> Week:
    x = ChannelFactory(brand=team.brand, platform=Platform.X, name="Acme on X")
    fb = ChannelFactory(brand=team.brand, platform=Platform.FACEBOOK, name="Acme Page")
    terms = {
        "acme": TrackedTerm.objects.create(brand=team.brand, kind="brand", text="acme"),
        "globex": TrackedTerm.objects.create(brand=team.brand, kind="competitor", text="globex", group="Globex"),
    }
    big = AuthorFactory(handle="bigvoice", followers=99_999)
    small = AuthorFactory(handle="angry", followers=9)
    small2 = AuthorFactory(handle="quiet", followers=50)
    staff = AuthorFactory(handle="staffer", followers=999, is_internal=True, platform=Platform.FACEBOOK)
    rows = [
        # n, channel, author, published, sentiment, text, terms
        (1, x, big, at(1), POS, "Love the new acme app #acmelove", ["acme"]),
        (2, x, big, at(2, 9), POS, "acme support is great #acmelove", ["acme"]),
        (3, x, small, at(2), NEG, "acme refund still missing", ["acme"]),
        (4, x, small, at(3, 11), NEG, "refund refused again by acme", ["acme", "globex"]),
        (5, fb, small, at(3), NEG, "How do I get a refund?", ["acme"]),
        (6, fb, big, at(4), NEU, "how do I get a refund", ["globex"]),
        (7, fb, staff, at(5), POS, "Proud of the acme team", ["acme"]),
        (8, x, small, at(5), UNS, "globex is cheaper", ["globex"]),
        (9, x, small2, at(6), NEG, "refund please acme", ["acme"]),
        # The previous period (22 to 28 February): one mention.
        (10, x, small, datetime(2026, 2, 25, 10, tzinfo=UTC), NEG, "refund slow", []),
    ]
    mentions = {}
    for n, channel, author, published, sentiment, text, names in rows:
        m = MentionFactory(
            channel=channel, author=author, published_at=published, sentiment=sentiment,
            analyzer_sentiment=sentiment, text=text,
        )  # fmt: skip
        m.terms.set([terms[name] for name in names])
        mentions[n] = m
    # Sentiment quality: 4 corrected (analyzer said positive); 1 and 3 handled, label kept.
    Mention.objects.filter(pk=mentions[4].pk).update(analyzer_sentiment=POS, sentiment_corrected_by=team.cm)
    Mention.objects.filter(pk=mentions[1].pk).update(status=Mention.Status.CLOSED)
    # Engagement: 99 likes and a non-number the platform sent, which counts for nothing.
    Mention.objects.filter(pk=mentions[9].pk).update(metrics={"likes": 99, "note": "n/a"})
    Mention.objects.filter(pk=mentions[3].pk).update(status=Mention.Status.REPLIED)

    # First responses: X 10 and 30 min, Facebook 120 min (a later second reply does not count).
    sent = Reply.Status.SENT
    Reply.objects.create(mention=mentions[1], author=team.manager, text="thanks", status=sent, sent_at=at(1, 10, 10))
    Reply.objects.create(mention=mentions[3], author=team.cm, text="sorry", status=sent, sent_at=at(2, 10, 30))
    Reply.objects.create(mention=mentions[5], author=team.cm, text="dm us", status=sent, sent_at=at(3, 12))
    Reply.objects.create(mention=mentions[5], author=team.cm, text="again", status=sent, sent_at=at(3, 13))
    Reply.objects.create(mention=mentions[9], author=team.cm, text="queued", status=Reply.Status.QUEUED)

    due = at(9)
    tickets = {
        "billing1": Ticket.objects.create(
            brand=team.brand, department=team.billing, mention=mentions[3], created_at=at(2, 11),
            acknowledged_at=at(2, 11, 30), resolved_at=at(3, 11), followed_up_at=at(3, 12),
            acknowledge_due_at=due, resolve_due_at=due, status="resolved",
        ),
        "billing2": Ticket.objects.create(
            brand=team.brand, department=team.billing, mention=mentions[4], created_at=at(3, 12),
            acknowledged_at=at(3, 14), resolved_at=at(4, 12), resolve_due_at=at(4), resolve_breached_at=at(4),
            status="resolved",
        ),
        "support": Ticket.objects.create(
            brand=team.brand, department=team.support, mention=mentions[5], created_at=at(3, 10, 30),
            acknowledge_due_at=at(3, 11), acknowledge_breached_at=at(3, 11),
        ),
    }  # fmt: skip
    rollups_refresh()
    return Week(mentions, tickets, terms)


def earlier(days: int) -> datetime:
    return NOW - timedelta(days=days)
