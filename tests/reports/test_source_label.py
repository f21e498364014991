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
