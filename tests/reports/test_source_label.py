"""What reports call the source of a mention: a title, else the channel where the id says nothing."""

from __future__ import annotations

from listening.models import Platform
from reports.rollups import source_label


def test_an_instagram_post_is_named_by_its_caption_else_by_the_channel():
    titles = {"17900000000000001": "Roadrunner Pro: now in summer orange"}
    assert (
        source_label("17900000000000001", Platform.INSTAGRAM, "Acme on Instagram", titles)
        == titles["17900000000000001"]
    )
    # a post without a caption: its bare id means nothing to a person
    assert source_label("17900000000000003", Platform.INSTAGRAM, "Acme on Instagram", {}) == "Acme on Instagram"


def test_readable_sources_keep_their_own_name():
    assert source_label("forum.gadgets.example", Platform.FEED, "Acme news", {}) == ""
    assert source_label("Acme", Platform.FACEBOOK, "Acme Page", {}) == ""
    assert source_label("104857600000001", Platform.FACEBOOK, "Acme Page", {}) == "Acme Page"


def test_a_linkedin_post_is_named_by_its_first_line_else_by_the_channel():
    titles = {"urn:li:share:7265000000000000001": "Roadrunner Pro: now in summer orange."}
    assert (
        source_label("urn:li:share:7265000000000000001", Platform.LINKEDIN, "Acme on LinkedIn", titles)
        == "Roadrunner Pro: now in summer orange."
    )
    assert source_label("urn:li:share:7265000000000000002", Platform.LINKEDIN, "Acme on LinkedIn", {}) == (
        "Acme on LinkedIn"
    )


def test_a_batch_reads_only_the_channels_its_mentions_do_not_hold(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from listening.models import Channel, Mention
    from reports.rollups import facts_of
    from tests.factories import BrandFactory, ChannelFactory, MentionFactory

    brand = BrandFactory()
    youtube = ChannelFactory(brand=brand, platform=Platform.YOUTUBE, name="Acme on YouTube")
    x = ChannelFactory(brand=brand, platform=Platform.X, name="Acme on X")
    made = [
        MentionFactory(channel=youtube, source="dQw4w9WgXcQ"),
        MentionFactory(channel=x, source="forum.gadgets.example"),
    ]
    # The first as the pipeline holds it (its channel with it), the second read afresh.
    held, fresh = made[0], Mention.objects.get(pk=made[1].pk)
    with CaptureQueriesContext(connection) as queries:
        facts = facts_of([held, fresh])

    assert [(f.platform, f.source_label) for f in facts] == [(Platform.YOUTUBE, "Acme on YouTube"), (Platform.X, "")]
    assert facts == facts_of(list(Mention.objects.filter(pk__in=[m.pk for m in made]).order_by("pk")))
    # Channels read by id: the second mention's alone.
    table = Channel._meta.db_table
    by_id = [q["sql"].split(f'"{table}"."id" IN (')[1] for q in queries if f'"{table}"."id" IN (' in q["sql"]]
    assert [ids.split(")")[0] for ids in by_id] == [str(x.pk)]


def test_terms_the_pipeline_hands_over_count_as_the_stored_links_do(db):
    # Mentions matched alike share one list of terms; each mention still counts its own.
    from listening.models import Mention, TrackedTerm
    from reports.rollups import facts_of
    from tests.factories import BrandFactory, ChannelFactory, MentionFactory, TrackedTermFactory

    brand = BrandFactory()
    channel = ChannelFactory(brand=brand, platform=Platform.X)
    acme = TrackedTermFactory(brand=brand, text="Acme", kind=TrackedTerm.Kind.BRAND)
    globex = TrackedTermFactory(brand=brand, text="Globex", kind=TrackedTerm.Kind.COMPETITOR, group="")
    initech = TrackedTermFactory(brand=brand, text="Initech", kind=TrackedTerm.Kind.COMPETITOR, group="Rivals")
    shared, other = [acme, globex], [initech]
    held = [(shared, [acme, globex]), ([], []), (shared, [acme, globex]), (other, [initech]), ([acme], [acme])]
    mentions = []
    for tracked, linked in held:
        mention = MentionFactory(channel=channel)
        mention.terms.set(linked)
        mention.tracked_terms = tracked
        mentions.append(mention)

    facts = facts_of(mentions, matched=True)
    assert facts == facts_of(list(Mention.objects.filter(pk__in=[m.pk for m in mentions]).order_by("pk")))
    assert [(f.term_ids, f.groups) for f in facts] == [
        (frozenset({acme.pk, globex.pk}), frozenset({None, "Globex"})),
        (frozenset(), frozenset()),
        (frozenset({acme.pk, globex.pk}), frozenset({None, "Globex"})),
        (frozenset({initech.pk}), frozenset({"Rivals"})),
        (frozenset({acme.pk}), frozenset({None})),
    ]
