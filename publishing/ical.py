"""The brand's posts as an iCalendar file (RFC 5545) for the team's calendars: one event a post,
at its time, a quarter of an hour long, named by its text and its channels."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from publishing.models import Post, PostTarget
from publishing.selectors import post_status

Status = PostTarget.Status
EVENT_LENGTH = timedelta(minutes=15)
# What a calendar makes of a post's state: not sure yet, going out, or not going out.
EVENT_STATUS = {
    Status.DRAFT: "TENTATIVE",
    Status.PENDING_APPROVAL: "TENTATIVE",
    Status.REJECTED: "CANCELLED",
}


def _text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11): a post's own words never end a property or add one."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets go on in continuation lines starting with a space (3.1), never
    cutting a UTF-8 character in two."""
    out, current = [], ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def posts_ical(posts: Iterable[Post], *, site_url: str, name: str) -> str:
    now = _when(timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Escucha//Publishing calendar//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for post in posts:
        if post.scheduled_at is None:
            continue
        targets = list(post.targets.all())
        channels = ", ".join(target.channel.name for target in targets)
        state = post_status(post)
        description = [f"{Status(state).label} · {channels}", post.text]
        description += [target.external_url for target in targets if target.external_url]
        lines += [
            "BEGIN:VEVENT",
            f"UID:post-{post.pk}@{site_url.split('://', 1)[-1]}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_when(post.scheduled_at)}",
            f"DTEND:{_when(post.scheduled_at + EVENT_LENGTH)}",
            f"SUMMARY:{_text(' '.join(post.text.split())[:120])}",
            f"DESCRIPTION:{_text(chr(10).join(description))}",
            f"URL:{site_url}/posts/{post.pk}/",
            f"STATUS:{EVENT_STATUS.get(state, 'CONFIRMED')}",
        ]
        if post.campaign_id:
            lines.append(f"CATEGORIES:{_text(post.campaign.text)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
