"""Changes people (and rules) make to a mention. Each one is recorded as a MentionEvent.

Every writer of mention status, assignee, sentiment or tags goes through here, so the history
("who changed it, and when") is complete whatever screen, API call or rule made the change.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from listening.models import Mention, MentionEvent, Sentiment


def _record(mention: Mention, actor: AbstractBaseUser | None, kind: str, old: str, new: str, note: str = "") -> None:
    MentionEvent.objects.create(mention=mention, actor=actor, kind=kind, old_value=old, new_value=new, note=note)


@transaction.atomic
def set_status(mention: Mention, status: str, actor: AbstractBaseUser | None = None, note: str = "") -> bool:
    """Move a mention to ``status``; returns False (and records nothing) when it already is there."""
    if status not in Mention.Status.values:
        raise ValueError(f"unknown mention status {status!r}")
    old = mention.status
    if old == status:
        return False
    mention.status = status
    mention.save(update_fields=["status", "updated_at"])
    _record(mention, actor, MentionEvent.Kind.STATUS, old, status, note)
    return True


@transaction.atomic
def assign(mention: Mention, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None = None) -> bool:
    """Give a mention to ``assignee`` (None to unassign). A new mention becomes open when assigned."""
    if mention.assignee_id == (assignee.pk if assignee else None):
        return False
    old = mention.assignee.get_username() if mention.assignee else ""
    mention.assignee = assignee
    fields = ["assignee", "updated_at"]
    if assignee is not None and mention.status == Mention.Status.NEW:
        mention.status = Mention.Status.OPEN
        fields.append("status")
    mention.save(update_fields=fields)
    _record(mention, actor, MentionEvent.Kind.ASSIGNED, old, assignee.get_username() if assignee else "")
    return True


@transaction.atomic
def correct_sentiment(mention: Mention, label: str, actor: AbstractBaseUser) -> bool:
    """An agent relabels the sentiment. The analyzer's label is kept beside it for agreement reports."""
    if label not in Sentiment.values:
        raise ValueError(f"unknown sentiment {label!r}")
    old = mention.sentiment
    if old == label and mention.sentiment_corrected_by_id:
        return False
    mention.sentiment = label
    mention.sentiment_corrected_by = actor
    mention.sentiment_corrected_at = timezone.now()
    mention.save(update_fields=["sentiment", "sentiment_corrected_by", "sentiment_corrected_at", "updated_at"])
    _record(mention, actor, MentionEvent.Kind.SENTIMENT, old, label)
    return True


@transaction.atomic
def add_tag(mention: Mention, tag: str, actor: AbstractBaseUser | None = None) -> bool:
    tag = tag.strip()
    if not tag or tag in mention.tags:
        return False
    mention.tags = [*mention.tags, tag]
    mention.save(update_fields=["tags", "updated_at"])
    _record(mention, actor, MentionEvent.Kind.TAGGED, "", tag)
    return True
