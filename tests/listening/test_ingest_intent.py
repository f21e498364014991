"""Ingestion reads a mention's intent with its sentiment, and keeps why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Intent, Mention, MentionEvent, Platform, Sentiment
from listening.services import mention_correct_intent
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ingest(channel, *texts: str) -> list[Mention]:
    items = [
        FetchedItem(external_id=str(n), text=text, author=FetchedAuthor(external_id=f"a{n}"), published_at=AT)
        for n, text in enumerate(texts)
    ]
    ingest_items(channel=channel, items=items)
    return list(Mention.objects.filter(channel=channel).order_by("external_id"))


def test_a_complaint_without_angry_words_is_stored_as_a_negative_complaint_with_its_reasons(team) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    complaint, question = _ingest(
        channel,
        "Four calls, two promises, zero callbacks.",
        "What time does the store on King Street open on Sundays?",
    )
    assert (complaint.intent, complaint.analyzer_intent, complaint.sentiment) == (
        Intent.COMPLAINT, Intent.COMPLAINT, Sentiment.NEGATIVE,
    )  # fmt: skip
    assert complaint.sentiment_score < -0.05
    assert ["unanswered", "zero callbacks"] in complaint.analysis["cues"]
    assert complaint.analysis["lexicon"] > 0  # the lexicon alone read it as positive
    assert (question.intent, question.sentiment) == (Intent.QUESTION, Sentiment.NEUTRAL)


def test_an_agent_corrects_the_intent_and_the_history_says_so(team) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    (mention,) = _ingest(channel, "Switching to another bank next month, just fancied a change")
    assert mention.intent == Intent.OTHER

    assert mention_correct_intent(mention=mention, intent=Intent.COMPLAINT, actor=team.cm)
    assert not mention_correct_intent(mention=mention, intent=Intent.COMPLAINT, actor=team.cm)

    mention.refresh_from_db()
    assert (mention.intent, mention.analyzer_intent, mention.intent_corrected_by) == (
        Intent.COMPLAINT, Intent.OTHER, team.cm,
    )  # fmt: skip
    event = MentionEvent.objects.get(mention=mention, kind=MentionEvent.Kind.INTENT)
    assert (event.old_value, event.new_value, event.actor) == (Intent.OTHER, Intent.COMPLAINT, team.cm)
    with pytest.raises(ValueError):
        mention_correct_intent(mention=mention, intent=Intent.UNCLASSIFIED, actor=team.cm)
