"""The demo's voices: each person says their own words, outlets report and customers complain."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest

from sandbox import generator
from sandbox.models import SandboxPost

pytestmark = pytest.mark.django_db

MEDIA = {p.name for p in generator.PERSONAS if p.role == "media"}
# Words of a customer's own purchase: an outlet never writes them about itself.
OWN_ORDER = re.compile(r"\b(order|pedido|invoice|factura|charged|cobr\w*|my refund|mi reembolso)\b", re.I)


def authors_by_text(posts: list[SandboxPost]) -> dict[str, set[str]]:
    by_text: dict[str, set[str]] = defaultdict(set)
    for post in posts:
        if post.payload.get("retweet_of"):
            continue  # a retweet quotes its original on purpose ("RT @…: …")
        text = re.sub(r"^(@\w+ )+", "", post.text)  # a reply's leading @handle is not its words
        by_text[text].add(post.author.get("name", ""))
    return by_text


def test_no_text_is_posted_under_several_authors() -> None:
    posts = generator.generate(300, spread=timedelta(days=7), seed=4)
    shared = {text: names for text, names in authors_by_text(posts).items() if len(names) > 1}
    assert not shared, list(shared.items())[:3]


def test_a_later_run_does_not_repeat_the_first() -> None:
    first = generator.generate(120, spread=timedelta(days=7), seed=1)
    second = generator.generate(120, seed=2)
    repeated = {p.text for p in first if p.kind != "page_post"} & {p.text for p in second if p.kind != "page_post"}
    repeated = {text for text in repeated if not text.startswith(("RT @", "Summer is here"))}
    assert not repeated, sorted(repeated)[:3]


def test_outlets_report_and_never_complain_about_an_order_of_their_own() -> None:
    posts = generator.generate(400, spread=timedelta(days=7), seed=8)
    by_media = [p for p in posts if p.author.get("name") in MEDIA and not p.payload.get("retweet_of")]
    assert by_media
    assert not [p.text for p in by_media if OWN_ORDER.search(p.text)]
    replies = [p for p in by_media if p.parent_external_id and not (p.platform == "facebook" and p.kind == "comment")]
    assert not replies, "outlets publish (or comment on the brand's post), they do not join threads"


def test_news_sites_publish_their_writers_articles_and_forums_hold_customers_cases() -> None:
    posts = [p for p in generator.generate(400, spread=timedelta(days=7), seed=2) if p.platform == "feed"]
    sites = {site.name: site for site in generator.FEED_SITES}
    customers = {p.name: p for p in generator.PERSONAS if p.role == "customer"}
    assert {p.payload["site"] for p in posts} == set(sites)
    for post in posts:
        site = sites[post.payload["site"]]
        if site.kind == "news":
            assert post.author["name"] in site.writers, post.payload
        else:
            assert customers[post.author["name"]].lang == site.lang, post.payload


def test_the_language_given_to_a_tweet_is_the_language_it_is_written_in() -> None:
    from listening.language import detect_language

    posts = generator.generate(200, spread=timedelta(days=7), seed=6)
    tweets = [p for p in posts if p.platform == "x" and not p.parent_external_id and not p.payload.get("retweet_of")]
    wrong = [
        (p.payload["lang"], p.text)
        for p in tweets
        if p.author.get("id") != generator.X_BRAND_USER_ID
        and detect_language(p.text, "", ["en", "es"]) != p.payload["lang"]
    ]
    assert len(wrong) <= len(tweets) // 20, wrong[:5]  # the detector may miss a short one
