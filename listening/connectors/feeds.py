"""RSS and Atom feeds (blogs, forums, news, alert feeds) through feedparser.

Settings: ``url`` (the feed; when blank the channel's ``api_base_url`` is the feed's address).
No credentials. The bytes are fetched here with requests under the outbound policy (``_http``;
conditional GET with ETag and Last-Modified) and handed to ``feedparser.parse``.

Cursor: ``{"etag": …, "last_modified": …, "seen": [ids of the latest entries]}``; entries already
seen are not sent again. A feed cut off in transfer keeps its whole entries (``FetchResult.error``
says it was cut) and stores no validators, so the next poll reads the whole feed for the rest.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser
import requests
from django.utils.translation import gettext as _

from listening.connectors._http import http_timeout, mount_outbound, safe_url
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    Connector,
    ConnectorError,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    PostedReply,
    RateLimited,
    RejectedItem,
    SettingField,
    unreadable_item,
)

SEEN_KEPT = 500
MAX_ID_LENGTH = 255
USER_AGENT = "Escucha feed reader (+https://github.com/escucha)"


# A numeric character reference to a surrogate ("&#xD800;") or past Unicode ("&#x110000;") names no
# character, and feedparser's fallback parser crashes on it, losing the whole feed; such references
# are dropped before parsing. Every other reference ("&#0;" included) is left to the parser.
CHAR_REF = re.compile(rb"&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));")


# What expat says of a document that stops mid-way: a feed cut off in transfer. Other faults of
# form (an undefined entity, a stray character) are forgiven, as feedparser does, entry by entry.
ENDED_EARLY = ("no element found", "unclosed token")


def without_impossible_char_refs(content: bytes) -> bytes:
    def keep(match: re.Match[bytes]) -> bytes:
        digits, base = (match.group(1), 10) if match.group(1) is not None else (match.group(2), 16)
        digits = digits.lstrip(b"0") or b"0"
        if len(digits) <= 7:
            code = int(digits, base)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return match.group(0)
        return b""

    return CHAR_REF.sub(keep, content)


def entry_id(entry: Any) -> str:
    """The entry's id (or link, or title), hashed when longer than the column holds."""
    raw = str(entry.get("id") or entry.get("link") or entry.get("title") or "")
    if len(raw) > MAX_ID_LENGTH:
        return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    return raw


def _published(entry: Any) -> datetime:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return datetime.now(UTC)


class FeedConnector(Connector):
    platform = "feed"
    reply_max_length: ClassVar[int] = 0
    settings_fields = (SettingField("url", pattern=r"https?://\S+"),)
    credential_keys = ()

    @classmethod
    def clean_settings(cls, raw: Any, *, api_base_url: str = "") -> tuple[dict[str, Any], dict[str, str]]:
        cleaned, errors = super().clean_settings(raw, api_base_url=api_base_url)
        # A feed channel behind a gateway may give its address as the API base URL instead.
        if not cleaned.get("url") and not api_base_url and "url" not in errors and isinstance(raw, dict):
            errors["url"] = _("The feed's address is required.")
        return cleaned, errors

    @classmethod
    def address(cls, settings: dict[str, Any], api_base_url: str) -> tuple[str, str]:
        if settings.get("url"):
            return "url", str(settings["url"]).strip()
        return super().address(settings, api_base_url)

    @property
    def feed_url(self) -> str:
        return self.address(self.settings, self.channel.api_base_url)[1]

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        url = self.feed_url
        if not safe_url(url):
            raise ConnectorError("Feed channel needs an http(s) url", permanent=True)
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
        }
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        # Feeds move (http to https, a new path): redirects are followed, each checked like the first.
        session = mount_outbound(requests.Session(), follow_redirects=True)
        try:
            response = session.get(url, headers=headers, timeout=http_timeout())
        except requests.RequestException as exc:
            raise ConnectorError(f"Feed could not be reached: {exc}") from exc
        finally:
            session.close()
        if response.status_code == 304:
            return FetchResult(items=[], cursor=dict(cursor))
        if response.status_code == 429:
            retry = response.headers.get("Retry-After", "")
            raise RateLimited("Feed server asks to slow down", retry_after=float(retry) if retry.isdigit() else 900)
        if response.status_code in (401, 403):
            raise ConnectorError(
                f"Feed refused access ({response.status_code})", reconnect=True, status=response.status_code
            )
        if response.status_code in (404, 410):
            raise ConnectorError(
                f"Feed not found ({response.status_code})", permanent=True, status=response.status_code
            )
        if response.status_code >= 400:
            raise ConnectorError(f"Feed server error {response.status_code}", status=response.status_code)

        # Text is kept verbatim (pages escape it on display), so feedparser's HTML sanitizer stays off.
        parsed = feedparser.parse(
            without_impossible_char_refs(response.content),
            response_headers={k.lower(): v for k, v in response.headers.items()},
            sanitize_html=False,
        )
        problem = str(parsed.get("bozo_exception") or "")
        if parsed.bozo and not parsed.entries:
            raise ConnectorError(f"Feed is not valid RSS or Atom: {problem}")
        entries = list(parsed.entries)
        error: ConnectorError | None = None
        if parsed.bozo and any(words in problem for words in ENDED_EARLY):
            # feedparser still returns the entries it read, the last one cut short; stored, it would
            # keep its cut text for good (the next poll skips a known entry). The whole ones before
            # it are kept; it and the rest are read on the next poll, which asks for the whole feed.
            error = ConnectorError(f"Feed ended before its end (cut off in transfer?): {problem}")
            entries = entries[:-1]
            if not entries:
                raise error
        feed_title = str(parsed.feed.get("title") or "")
        site = parsed.feed.get("link") or url
        site_host = urlsplit(site).hostname or urlsplit(url).hostname or ""

        seen = list(cursor.get("seen") or [])
        seen_set = set(seen)
        items = []
        rejected: list[RejectedItem] = []
        for entry in entries:
            external_id = entry_id(entry)
            if not external_id or external_id in seen_set:
                continue
            seen_set.add(external_id)
            seen.append(external_id)
            try:
                items.append(self._item(entry, external_id, parsed.feed, site, site_host, feed_title))
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("The feed", {"id": external_id}, exc))
        whole = error is None  # a cut feed's validators would make the next poll's answer "not modified"
        new_cursor = {
            "etag": response.headers.get("ETag", "") if whole else "",
            "last_modified": response.headers.get("Last-Modified", "") if whole else "",
            "seen": seen[-SEEN_KEPT:],
        }
        return FetchResult(items=items, cursor=new_cursor, rejected=rejected, error=error)

    @staticmethod
    def _item(entry: Any, external_id: str, feed: Any, site: str, site_host: str, feed_title: str) -> FetchedItem:
        link = safe_url(entry.get("link"))
        source = urlsplit(link).hostname if link else site_host
        author_name = str(entry.get("author") or feed_title or source)
        return FetchedItem(
            external_id=external_id,
            text=str(entry.get("summary") or entry.get("title") or ""),
            title=str(entry.get("title") or "")[:500],
            author=FetchedAuthor(
                external_id=f"{source}:{author_name}"[:255], name=author_name, profile_url=safe_url(site)
            ),
            published_at=_published(entry),
            kind="article",
            url=link,
            source=source,
            raw_language=str(entry.get("language") or feed.get("language") or ""),
        )

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        raise ConnectorError("feeds cannot be answered", permanent=True)
