"""Comments on the brand's own posts: a new mention that answers a published post (a comment on a
Facebook post, a reply in an X conversation the post started, a comment on an Instagram media) is
linked to it as it is stored, so the inbox can list a post's comments and a mention page name the
post it answers.

A pipeline step (``listening.pipeline``), set-based: a batch of any size costs a fixed number of
statements. A mention is matched by the platform ids its connector gave (the conversation's root,
the item it answers, the media it is on) against the published posts of the brand's channels of
the same platform (the index on (channel, platform id)); a reply whose parent comment was linked
before is linked with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from listening.models import Mention
from publishing.models import PostComment, PostTarget


def _candidates(mention: Mention) -> list[str]:
    """The platform ids that may be the post a mention answers, the likeliest first."""
    ids = (getattr(mention, "thread_root", ""), mention.parent_external_id, mention.source)
    return [value for value in dict.fromkeys(ids) if value]


def link_post_comments(mentions: Sequence[Mention]) -> None:
    """Link each new mention that answers a published post of its brand to that post."""
    wanted = {mention.pk: _candidates(mention) for mention in mentions}
    ids = {value for values in wanted.values() for value in values}
    if not ids:
        return
    places = {(mention.brand_id, mention.channel.platform) for mention in mentions}
    # The posts of the brands' channels of those platforms, their channels joined in: one query,
    # in no order (the targets' own order joins their posts in, to sort what is used as a set).
    published = (
        PostTarget.objects.filter(
            channel__brand_id__in={brand for brand, _ in places},
            channel__platform__in={platform for _, platform in places},
            external_id__in=list(ids),
            status=PostTarget.Status.PUBLISHED,
        )
        .order_by()
        .values_list("pk", "channel__brand_id", "channel__platform", "external_id")
    )
    targets = {
        (brand_id, platform, external_id): pk
        for pk, brand_id, platform, external_id in published
        if (brand_id, platform) in places
    }
    linked: dict[int, int] = {}  # mention id → target id
    for mention in mentions:
        key = (mention.brand_id, mention.channel.platform)
        target = next((targets[(*key, value)] for value in wanted[mention.pk] if (*key, value) in targets), None)
        if target is not None:
            linked[mention.pk] = target
    # A reply to a comment that answers a post, where the platform did not name the post.
    orphans = [m for m in mentions if m.pk not in linked and m.parent_id is not None]
    if orphans:
        batch = {m.pk for m in mentions}
        # Only a parent stored before the batch may have its link already: a page whose replies
        # answer mentions of the page itself reads none (nor builds the query).
        before = {m.parent_id for m in orphans if m.parent_id not in batch}
        earlier = (
            dict(PostComment.objects.filter(mention_id__in=before).values_list("mention_id", "target_id"))
            if before
            else {}
        )
        for mention in sorted(orphans, key=lambda m: (m.published_at, m.pk)):
            target = linked.get(mention.parent_id) or earlier.get(mention.parent_id)
            if target is not None:
                linked[mention.pk] = target
    if linked:
        PostComment.objects.bulk_create(
            [PostComment(mention_id=mention_id, target_id=target_id) for mention_id, target_id in linked.items()],
            ignore_conflicts=True,
            batch_size=500,
        )
