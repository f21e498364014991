"""The one contract every platform connector keeps.

A connector turns a platform's wire format into plain typed objects at the boundary
(``FetchedItem``, ``FetchedAuthor``), never leaks the client library's types past this module,
and speaks failure in three words only:

- ``RateLimited(retry_after)``: come back later, nothing is wrong; the cursor is untouched.
- ``ConnectorError(permanent=False)``: a transient failure (5xx, timeout, malformed payload); retry
  with backoff.
- ``ConnectorError(permanent=True)``: retrying will not help; ``reconnect=True`` when the cause is
  a revoked or wrong credential (401/403 auth), so the channel shows "reconnect needed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from listening.models import Channel


class ConnectorError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, reconnect: bool = False, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent or reconnect
        self.reconnect = reconnect
        self.status = status


class RateLimited(ConnectorError):
    def __init__(self, message: str, *, retry_after: float, remaining: int | None = 0):
        super().__init__(message, status=429)
        self.retry_after = max(float(retry_after), 1.0)
        self.remaining = remaining


@dataclass(frozen=True)
class FetchedAuthor:
    external_id: str
    handle: str = ""
    name: str = ""
    followers: int = 0
    verified: bool = False
    profile_url: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class FetchedItem:
    """One post, comment, reply, mention or article as the platform gave it, text verbatim."""

    external_id: str
    text: str
    author: FetchedAuthor
    published_at: datetime  # aware, UTC
    kind: str = "mention"  # a Mention.Kind value
    url: str = ""
    title: str = ""
    parent_external_id: str = ""
    source: str = ""  # site, forum, video or page it was found on
    metrics: dict[str, int] = field(default_factory=dict)
    raw_language: str = ""  # the platform's own language tag, a hint only


@dataclass(frozen=True)
class RateBudget:
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass
class FetchResult:
    """What one poll brought: the items (any order, may repeat) and the cursor to store with them.

    The cursor is saved in the same transaction as the items, so a crash between the two is
    impossible: either both are stored or the next poll fetches the same page again.
    """

    items: list[FetchedItem]
    cursor: dict[str, Any]
    budget: RateBudget = field(default_factory=RateBudget)
    has_more: bool = False  # more pages are waiting: poll again soon instead of at the interval


@dataclass(frozen=True)
class PostedReply:
    external_id: str
    url: str = ""


class Connector:
    """Base class. Subclasses set ``platform`` and implement ``fetch`` and ``post_reply``."""

    platform: ClassVar[str]
    reply_max_length: ClassVar[int] = 5000
    default_base_url: ClassVar[str] = ""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.settings: dict[str, Any] = channel.settings or {}
        self.credentials: dict[str, Any] = channel.credentials or {}
        self.base_url = (channel.api_base_url or self.default_base_url).rstrip("/")

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        """Items newer than ``cursor`` (one page or a bounded number of pages)."""
        raise NotImplementedError

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        """Publish ``text`` as a public answer to the item ``parent_external_id``."""
        raise NotImplementedError
