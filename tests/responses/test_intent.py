"""Intent where people work: the inbox and API filter, the mention page (why, one-click correction),
routing rules on intent, and the demo's rules."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.utils.html import escape
from rest_framework.test import APIClient

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Intent, Mention, MentionEvent, Platform, Sentiment
from responses.models import RoutingRule, Ticket
from responses.routing import route_mentions
from responses.rules import RuleInvalid, clean_rule
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X)


@pytest.fixture
def mentions(team, channel) -> dict[str, Mention]:
    return {
        intent: MentionFactory(channel=channel, intent=intent, analyzer_intent=intent, text=f"a {intent} mention")
        for intent in (Intent.COMPLAINT, Intent.QUESTION, Intent.PRAISE)
    } | {"other brand": MentionFactory(channel=ChannelFactory(brand=team.other_brand), intent=Intent.COMPLAINT)}


def test_the_inbox_filters_by_intent_and_keeps_it_in_the_link(client, team, mentions) -> None:
    client.force_login(team.cm)
    html = client.get("/inbox/?intent=complaint").content.decode()
    assert "a complaint mention" in html
    assert "a question mention" not in html and "a praise mention" not in html
    assert '<option value="complaint" selected>' in html
    assert 'class="badge intent intent-complaint"' in html


def test_the_api_filters_by_intent_and_says_why(team, mentions) -> None:
    api = APIClient()
    api.force_authenticate(team.cm)
    rows = api.get("/api/v1/mentions/?intent=complaint").json()["results"]
    assert [row["id"] for row in rows] == [mentions[Intent.COMPLAINT].pk]
    assert rows[0]["intent"] == {
        "label": "complaint", "analyzer_label": "complaint", "corrected": False, "cues": [], "words": [],
        "analyzer": "",
    }  # fmt: skip
    response = api.get("/api/v1/mentions/?intent=angry")
    assert response.status_code == 400 and "intent" in response.json()


def test_the_mention_page_shows_why_and_corrects_the_intent_in_one_click(client, team, channel) -> None:
    ingest_items(
        channel=channel,
        items=[
            FetchedItem(
                external_id="w1",
                text="support chat has been 'connecting' for 40 minutes. Anyone there?",
                author=FetchedAuthor(external_id="p1", handle="waiting_person"),
                published_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
        ],
        route=False,
    )
    mention = Mention.objects.get(external_id="w1")
    client.force_login(team.cm)
    html = client.get(f"/mentions/{mention.pk}/").content.decode()
    assert "“connecting&#x27; for 40 minutes” → waiting" in html
    assert "“?” → question" in html
    assert "“Anyone there?” → no answer" in html
    # Each intent is one button: one click corrects.
    assert 'name="value" value="question"' in html and 'name="field" value="intent"' in html

    response = client.post(f"/mentions/{mention.pk}/update/", {"field": "intent", "value": "question"})
    assert response.status_code == 302
    mention.refresh_from_db()
    assert (mention.intent, mention.analyzer_intent, mention.intent_corrected_by) == ("question", "complaint", team.cm)
    assert MentionEvent.objects.filter(mention=mention, kind=MentionEvent.Kind.INTENT, actor=team.cm).exists()
    page = client.get(f"/mentions/{mention.pk}/").content.decode()
    assert f"corrected by {escape(team.cm.get_full_name())} from Complaint" in page


def test_only_people_who_may_change_mentions_correct_intent(client, team, mentions) -> None:
    mention = mentions[Intent.COMPLAINT]
    client.force_login(team.outsider)
    assert client.post(f"/mentions/{mention.pk}/update/", {"field": "intent", "value": "praise"}).status_code == 404
    client.force_login(team.cm)
    assert client.post(f"/mentions/{mention.pk}/update/", {"field": "intent", "value": "bogus"}).status_code == 400
    mention.refresh_from_db()
    assert mention.intent == Intent.COMPLAINT and mention.intent_corrected_by is None


def test_a_routing_rule_on_intent_is_validated_and_matches(team, channel) -> None:
    with pytest.raises(RuleInvalid) as invalid:
        clean_rule(
            brand_id=team.brand.pk,
            match="all",
            conditions=[{"field": "intent", "op": "in", "value": "complaint, rant"}],
            actions=[{"type": "tag", "tag": "x"}],
        )
    assert "rant" in invalid.value.errors["conditions.0.value"]
    clean = clean_rule(
        brand_id=team.brand.pk,
        match="all",
        conditions=[{"field": "intent", "op": "in", "value": "Complaint"}],
        actions=[{"type": "ticket", "department": "Support"}],
    )
    RoutingRuleFactory(brand=team.brand, conditions=clean.conditions, actions=clean.actions)
    # Neutral by its score, a complaint by its intent: the rule on intent routes it.
    complaint = MentionFactory(channel=channel, intent=Intent.COMPLAINT, sentiment=Sentiment.NEUTRAL, sentiment_score=0)
    praise = MentionFactory(channel=channel, intent=Intent.PRAISE)
    route_mentions([complaint, praise])
    assert Ticket.objects.get().mention == complaint
    assert Ticket.objects.get().department == team.support


def test_the_demo_routes_complaints_by_intent(team, settings) -> None:
    settings.SANDBOX_ENABLED = False
    call_command("demo_setup", stdout=io.StringIO())
    rules = RoutingRule.objects.filter(brand__slug="acme")
    assert all(
        condition["field"] != "sentiment" for rule in rules for condition in rule.conditions
    )  # intent reads better than a score threshold
    channel = ChannelFactory(brand=rules[0].brand, platform=Platform.X)
    author = FetchedAuthor(external_id="d1", handle="someone", followers=12)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    ingest_items(
        channel=channel,
        items=[
            FetchedItem(external_id="1", text="Support chat 'connecting' for 40 minutes. Anyone there?",
                        author=author, published_at=at),
            FetchedItem(external_id="2", text="Why is there a second charge on my card? Please fix this.",
                        author=author, published_at=at),
            FetchedItem(external_id="3", text="How do I pair it with a second phone?", author=author, published_at=at),
        ],
    )  # fmt: skip
    tickets = {t.mention.external_id: t.department.name for t in Ticket.objects.select_related("mention", "department")}
    assert tickets == {"1": "Support", "2": "Billing"}
    assert "question" in Mention.objects.get(channel=channel, external_id="3").tags
