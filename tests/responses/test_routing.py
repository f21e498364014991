"""Routing rules: each condition and action, order and stop, validation, preview, repeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from listening.models import Mention, MentionEvent, Platform, Sentiment, TrackedTerm
from responses.models import Notification, Ticket
from responses.routing import route_mentions
from responses.rules import RuleInvalid, clean_rule
from responses.selectors import rule_preview
from tests.factories import (
    AuthorFactory,
    ChannelFactory,
    MentionFactory,
    RoutingRuleFactory,
    TicketFactory,
    TrackedTermFactory,
)

pytestmark = pytest.mark.django_db


def _rule(brand, conditions, actions=None, **kwargs):
    actions = actions if actions is not None else [{"type": "tag", "tag": "hit"}]
    return RoutingRuleFactory(brand=brand, conditions=conditions, actions=actions, **kwargs)


def _routed(mention) -> Mention:
    route_mentions([mention])
    mention.refresh_from_db()
    return mention


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X)


@pytest.mark.parametrize(
    ("op", "words", "text", "hit"),
    [
        ("any", ["refund", "factura"], "I want my REFUND now", True),
        ("any", ["factura"], "Mi facturación está mal, FACTÚRA doble", True),  # accents and case
        ("any", ["refund"], "refunded already", False),  # whole words only
        ("any", ["not working"], "the app is   not working again", True),  # phrases
        ("all", ["refund", "late"], "refund is late", True),
        ("all", ["refund", "late"], "refund please", False),
        ("none", ["thanks"], "refund please", True),
        ("none", ["thanks"], "thanks for the refund", False),
    ],
)
def test_text_condition(team, channel, op, words, text, hit) -> None:
    _rule(team.brand, [{"field": "text", "op": op, "value": words}])
    mention = _routed(MentionFactory(channel=channel, text=text))
    assert ("hit" in mention.tags) is hit


def test_sentiment_condition_and_unscored_never_matches(team, channel) -> None:
    _rule(team.brand, [{"field": "sentiment", "op": "below", "value": -0.05}])
    negative = _routed(MentionFactory(channel=channel, sentiment_score=-0.6, sentiment=Sentiment.NEGATIVE))
    positive = _routed(MentionFactory(channel=channel, sentiment_score=0.6))
    unscored = _routed(MentionFactory(channel=channel, sentiment_score=None))
    assert "hit" in negative.tags
    assert "hit" not in positive.tags
    assert "hit" not in unscored.tags


def test_sentiment_above_skips_unscored(team, channel) -> None:
    _rule(team.brand, [{"field": "sentiment", "op": "above", "value": -1}])
    assert "hit" not in _routed(MentionFactory(channel=channel, sentiment_score=None)).tags
    assert "hit" in _routed(MentionFactory(channel=channel, sentiment_score=0.0)).tags


def test_term_kind_condition(team, channel) -> None:
    _rule(team.brand, [{"field": "term_kind", "op": "any", "value": ["competitor"]}])
    competitor = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    about_rival = MentionFactory(channel=channel)
    about_rival.terms.add(competitor)
    assert "hit" in _routed(about_rival).tags
    assert "hit" not in _routed(MentionFactory(channel=channel)).tags


def test_platform_channel_language_kind_conditions(team, channel) -> None:
    youtube = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE)
    _rule(
        team.brand,
        [
            {"field": "platform", "op": "in", "value": ["youtube"]},
            {"field": "channel", "op": "in", "value": [youtube.pk]},
            {"field": "language", "op": "in", "value": ["es"]},
            {"field": "kind", "op": "not_in", "value": ["article"]},
        ],
    )
    assert "hit" in _routed(MentionFactory(channel=youtube, language="es", kind="comment")).tags
    assert "hit" not in _routed(MentionFactory(channel=youtube, language="en", kind="comment")).tags
    assert "hit" not in _routed(MentionFactory(channel=channel, language="es", kind="comment")).tags
    assert "hit" not in _routed(MentionFactory(channel=youtube, language="es", kind="article")).tags


def test_followers_and_verified_conditions_with_match_any(team, channel) -> None:
    _rule(
        team.brand,
        [{"field": "followers", "op": "above", "value": 10000}, {"field": "verified", "op": "is", "value": True}],
        match="any",
    )
    big = _routed(MentionFactory(channel=channel, author=AuthorFactory(followers=50000)))
    verified = _routed(MentionFactory(channel=channel, author=AuthorFactory(followers=10, verified=True)))
    small = _routed(MentionFactory(channel=channel, author=AuthorFactory(followers=10)))
    assert "hit" in big.tags and "hit" in verified.tags
    assert "hit" not in small.tags


def test_ticket_action_opens_ticket_for_department_and_logs_it(team, channel) -> None:
    rule = _rule(
        team.brand,
        [{"field": "text", "op": "any", "value": ["refund"]}],
        [{"type": "ticket", "department": "Billing", "priority": "high"}],
    )
    mention = _routed(MentionFactory(channel=channel, text="refund please"))
    ticket = Ticket.objects.get(mention=mention)
    assert ticket.department == team.billing and ticket.priority == "high" and ticket.rule == rule
    assert mention.status == Mention.Status.ROUTED
    assert mention.routing_log[0]["rule"] == rule.pk
    assert f"ticket #{ticket.pk} Billing" in mention.routing_log[0]["did"]


def test_assign_status_spam_tag_notify_actions(team, channel) -> None:
    _rule(
        team.brand,
        [{"field": "text", "op": "any", "value": ["hello"]}],
        [
            {"type": "assign", "user": team.cm.pk},
            {"type": "tag", "tag": "greeting"},
            {"type": "notify", "user": team.cm.pk},
            {"type": "status", "status": "open"},
        ],
    )
    mention = _routed(MentionFactory(channel=channel, text="hello there"))
    assert mention.assignee == team.cm
    assert mention.tags == ["greeting"]
    assert mention.status == Mention.Status.OPEN
    assert Notification.objects.filter(user=team.cm, verb="rule").exists()
    assert MentionEvent.objects.filter(mention=mention, kind=MentionEvent.Kind.TAGGED).exists()

    _rule(team.brand, [{"field": "text", "op": "any", "value": ["casino"]}], [{"type": "spam"}])
    assert _routed(MentionFactory(channel=channel, text="best casino")).status == Mention.Status.SPAM


def test_rules_run_in_order_and_stop_here_stops(team, channel) -> None:
    _rule(team.brand, [{"field": "text", "op": "any", "value": ["x"]}], [{"type": "tag", "tag": "second"}], position=2)
    _rule(
        team.brand,
        [{"field": "text", "op": "any", "value": ["x"]}],
        [{"type": "tag", "tag": "first"}],
        position=1,
        stop_processing=False,
    )
    assert _routed(MentionFactory(channel=channel, text="x")).tags == ["first", "second"]

    _rule(
        team.brand,
        [{"field": "text", "op": "any", "value": ["y"]}],
        [{"type": "tag", "tag": "stopper"}],
        position=0,
        stop_processing=True,
    )
    _rule(team.brand, [{"field": "text", "op": "any", "value": ["y"]}], [{"type": "tag", "tag": "never"}], position=5)
    assert _routed(MentionFactory(channel=channel, text="y")).tags == ["stopper"]


def test_inactive_rules_and_other_brands_rules_do_not_run(team, channel) -> None:
    _rule(team.brand, [{"field": "text", "op": "any", "value": ["z"]}], is_active=False)
    _rule(team.other_brand, [{"field": "text", "op": "any", "value": ["z"]}])
    assert _routed(MentionFactory(channel=channel, text="z")).tags == []


def test_a_mention_is_routed_once(team, channel) -> None:
    _rule(team.brand, [{"field": "text", "op": "any", "value": ["refund"]}], [{"type": "notify", "user": team.cm.pk}])
    mention = MentionFactory(channel=channel, text="refund")
    route_mentions([mention])
    route_mentions([mention])
    assert Notification.objects.filter(user=team.cm).count() == 1


def test_a_rules_notification_links_to_the_mention_where_escucha_is_served(team, channel) -> None:
    # Behind a proxy under /escucha/ (FORCE_SCRIPT_NAME), every link carries the prefix.
    from django.urls import set_script_prefix

    _rule(team.brand, [{"field": "text", "op": "any", "value": ["refund"]}], [{"type": "notify", "user": team.cm.pk}])
    mention = MentionFactory(channel=channel, text="refund")
    set_script_prefix("/escucha/")
    try:
        route_mentions([mention])
    finally:
        set_script_prefix("/")
    assert Notification.objects.get(user=team.cm).url == f"/escucha/mentions/{mention.pk}/"


def test_routing_a_batch_takes_a_fixed_number_of_queries(team, channel, django_assert_max_num_queries) -> None:
    _rule(
        team.brand,
        [
            {"field": "term_kind", "op": "any", "value": ["competitor"]},
            {"field": "followers", "op": "above", "value": 5},
        ],
    )
    _rule(team.brand, [{"field": "text", "op": "any", "value": ["nothing-matches-this"]}])
    mentions = [Mention.objects.get(pk=MentionFactory(channel=channel).pk) for _ in range(20)]
    # Prefetching authors, channels, terms, rules, departments once; one routing_log UPDATE each.
    with django_assert_max_num_queries(10 + 20):
        route_mentions(mentions)


def test_repeat_complaint_is_tagged(team, channel) -> None:
    author = AuthorFactory()
    old = TicketFactory(mention=MentionFactory(channel=channel, author=author), department=team.billing)
    Ticket.objects.filter(pk=old.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=3))
    again = _routed(MentionFactory(channel=channel, author=author, sentiment=Sentiment.NEGATIVE, sentiment_score=-0.7))
    happy = _routed(MentionFactory(channel=channel, author=author, sentiment=Sentiment.POSITIVE, sentiment_score=0.7))
    assert "repeat" in again.tags and again.routing_log[0]["repeat"] is True
    assert "repeat" not in happy.tags


def test_repeat_complainers_are_looked_up_without_sorting_the_tickets(team, channel) -> None:
    """Which authors had a ticket closed lately is a set: the database is not asked to sort it."""
    author = AuthorFactory()
    old = TicketFactory(mention=MentionFactory(channel=channel, author=author), department=team.billing)
    Ticket.objects.filter(pk=old.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=3))
    mention = MentionFactory(channel=channel, author=author, sentiment=Sentiment.NEGATIVE, sentiment_score=-0.7)
    with CaptureQueriesContext(connection) as queries:
        route_mentions([mention])
    closed = [q["sql"] for q in queries if "closed_at" in q["sql"] and q["sql"].lstrip().startswith("SELECT")]
    assert len(closed) == 1 and "ORDER BY" not in closed[0]
    assert "repeat" in mention.tags


def test_old_closed_ticket_is_no_repeat(team, channel) -> None:
    author = AuthorFactory()
    old = TicketFactory(mention=MentionFactory(channel=channel, author=author), department=team.billing)
    Ticket.objects.filter(pk=old.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=45))
    again = _routed(MentionFactory(channel=channel, author=author, sentiment=Sentiment.NEGATIVE, sentiment_score=-0.7))
    assert "repeat" not in again.tags


def test_clean_rule_reports_each_faulty_field(team) -> None:
    with pytest.raises(RuleInvalid) as caught:
        clean_rule(
            brand_id=team.brand.pk,
            match="all",
            conditions=[
                {"field": "sentiment", "op": "below", "value": "very"},
                {"field": "color", "op": "is", "value": "red"},
                {"field": "platform", "op": "in", "value": ["myspace"]},
            ],
            actions=[{"type": "ticket", "department": "Nope"}, {"type": "assign", "user": team.outsider.pk}],
        )
    errors = caught.value.errors
    assert set(errors) == {
        "conditions.0.value",
        "conditions.1.field",
        "conditions.2.value",
        "actions.0.department",
        "actions.1.user",
    }


def test_clean_rule_normalises_department_names_to_ids(team) -> None:
    clean = clean_rule(
        brand_id=team.brand.pk,
        match="any",
        conditions=[
            {"field": "followers", "op": "above", "value": "100"},
            {"field": "verified", "op": "is", "value": "yes"},
        ],
        actions=[{"type": "ticket", "department": "billing", "priority": "urgent"}],
    )
    assert clean.conditions == [
        {"field": "followers", "op": "above", "value": 100},
        {"field": "verified", "op": "is", "value": True},
    ]
    assert clean.actions == [{"type": "ticket", "department": team.billing.pk, "priority": "urgent"}]


def test_department_of_another_brand_is_refused(team) -> None:
    with pytest.raises(RuleInvalid) as caught:
        clean_rule(
            brand_id=team.other_brand.pk,
            match="all",
            conditions=[{"field": "text", "op": "any", "value": ["a"]}],
            actions=[{"type": "ticket", "department": team.billing.pk}],
        )
    assert "actions.0.department" in caught.value.errors


def test_preview_counts_last_30_days_with_examples(team, channel) -> None:
    rule = RoutingRuleFactory.build(
        brand=team.brand, match="all", conditions=[{"field": "text", "op": "any", "value": ["refund"]}]
    )
    for _ in range(7):
        MentionFactory(channel=channel, text="refund please")
    MentionFactory(channel=channel, text="refund", published_at=timezone.now() - timedelta(days=40))
    MentionFactory(channel=channel, text="love it")
    MentionFactory(channel=ChannelFactory(brand=team.other_brand), text="refund")
    preview = rule_preview(rule=rule, batch_size=3)
    assert preview.count == 7
    assert len(preview.examples) == 5
    assert all("refund" in m.text for m in preview.examples)
    assert rule.pk is None  # nothing saved


def test_preview_prefilters_sentiment_and_still_skips_unscored(team, channel) -> None:
    rule = RoutingRuleFactory.build(
        brand=team.brand, match="all", conditions=[{"field": "sentiment", "op": "below", "value": 0.5}]
    )
    MentionFactory(channel=channel, sentiment_score=-0.2)
    MentionFactory(channel=channel, sentiment_score=None)
    assert rule_preview(rule=rule).count == 1


def test_demo_shaped_rule_naming_the_department_still_routes(team, channel) -> None:
    # The demo loads rules as written by hand, with the department's name instead of its id.
    _rule(
        team.brand,
        [{"field": "text", "op": "any", "value": ["cobro"]}, {"field": "sentiment", "op": "below", "value": -0.05}],
        [{"type": "ticket", "department": "Billing", "priority": "high"}],
    )
    mention = _routed(MentionFactory(channel=channel, text="Un COBRO indebido", sentiment_score=-0.4))
    assert Ticket.objects.get(mention=mention).department == team.billing
