"""The one contract every platform connector keeps.

A connector turns a platform's wire format into plain typed objects at the boundary
(``FetchedItem``, ``FetchedAuthor``), never leaks the client library's types past this module,
and speaks failure in three words only:

- ``RateLimited(retry_after)``: come back later, nothing is wrong; the cursor is untouched.
- ``ConnectorError(permanent=False)``: a transient failure (5xx, timeout, malformed payload); retry
  with backoff.
- ``ConnectorError(permanent=True)``: retrying will not help; ``reconnect=True`` when the cause is
  a revoked or wrong credential (401/403 auth), so the channel shows "reconnect needed".

A fetch that fails after reading part of what it owes may return what it read with the failure in
``FetchResult.error`` instead of raising: polling stores it, then handles the failure as raised.

Text is kept as the platform gave it except for what no database column can hold: building a
``FetchedItem``, ``FetchedAuthor`` or ``FetchResult`` drops NUL and lone surrogates from every
string in it (``storable_text``), so every source — polls, webhooks, imports — hands ingestion
storable text, and one stranger's ``&#0;`` never makes PostgreSQL refuse a whole page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from listening.models import Channel


# PostgreSQL's text and jsonb cannot hold NUL; a lone surrogate (a JSON "\ud800", a feed's
# "&#xD800;") cannot even be encoded as UTF-8. Everything else — emoji, right-to-left marks,
# newlines — is what the person wrote, and stays.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` without the characters no database column or e-mail can hold (NUL, lone surrogates)."""
    return UNSTORABLE.sub("", text)


def storable_json(value: Any) -> Any:
    """``value`` with ``storable_text`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_json(key): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value


def _store_cleaned(instance: Any, *names: str) -> None:
    # Frozen dataclasses: the cleaned values are set once, while the object is being built.
    for spec in fields(instance):
        if names and spec.name not in names:
            continue
        value = getattr(instance, spec.name)
        if isinstance(value, str | dict | list):
            object.__setattr__(instance, spec.name, storable_json(value))


class ConnectorError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, reconnect: bool = False, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent or reconnect
        self.reconnect = reconnect
        self.status = status


class Gone(ConnectorError):
    """The object a request was about is no longer there (deleted, hidden, or its author's account
    closed): a poll reading many objects drops this one and goes on. On its own it is permanent (a
    Page that is gone cannot be polled), but it says nothing about the channel's token or settings
    when it is one post among many."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, permanent=True, status=status)


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

    def __post_init__(self) -> None:
        _store_cleaned(self)


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
    # The post the conversation hangs on, where the platform says: X's conversation_id, the Facebook
    # post a comment is on. A comment on one of the brand's published posts is linked to it by this.
    thread_root: str = ""
    source_title: str = ""  # what the source is called, where the platform says (a video's title)
    metrics: dict[str, int] = field(default_factory=dict)
    raw_language: str = ""  # the platform's own language tag, a hint only
    # How the platform takes an answer to it, when not the usual way (``Mention.reply_route``).
    reply_route: str = ""

    def __post_init__(self) -> None:
        _store_cleaned(self)


@dataclass(frozen=True)
class RateBudget:
    remaining: int | None = None
    reset_at: datetime | None = None


# What parsing one item raises when the platform sent it unreadable (a missing id, a time that is
# not one): the item is set aside with the reason and the rest of its page is stored, instead of
# the page failing on every poll and silencing the channel behind one item.
ITEM_PARSE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, OverflowError)


@dataclass(frozen=True)
class RejectedItem:
    """An item not stored, and why: sent unreadable by the platform, or refused by the database.
    Listed on the channel with its health."""

    external_id: str
    reason: str


def unreadable_item(platform: str, raw: Any, error: Exception) -> RejectedItem:
    """The record of an item ``raw`` (the platform's JSON object) that could not be read."""
    external_id = raw.get("id") if isinstance(raw, dict) else None
    message = (str(error).strip().splitlines() or [""])[0]
    return RejectedItem(
        external_id=storable_text(str(external_id or "?"))[:255],
        reason=storable_text(f"{platform} sent an unreadable item ({type(error).__name__}: {message})")[:300],
    )


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
    # Conversations this poll's request budget left unread; the cursor owes them to the next polls,
    # and the channel says so meanwhile.
    deferred: int = 0
    # Items the platform sent unreadable: set aside, recorded on the channel; the rest is stored.
    rejected: list[RejectedItem] = field(default_factory=list)
    # A poll that failed part-way: what it read completely is stored with a cursor that goes no
    # further than that (every object past it, and every post whose comments were not all read, is
    # read again by the next poll), then the failure is recorded on the channel as if nothing had
    # been read. Without it, one fault among a poll's many requests threw the whole poll away.
    error: ConnectorError | None = None

    def __post_init__(self) -> None:
        # The cursor is saved as JSON and may carry the platform's ids (a feed's guids).
        _store_cleaned(self, "cursor")


@dataclass(frozen=True)
class DeletionCheck:
    """What a platform said about items Escucha stored (``Connector.check_deleted``).

    ``gone``: the ids it says were deleted (or made private, or whose author left): Escucha erases
    them. ``checked``: the ids whose check is done or under way, gone ones included; they are not
    asked about again until the platform's recheck period passes. ``state``: a check the platform
    runs in the background (an X compliance job), to be resumed on the next run; empty when done.
    """

    gone: frozenset[str] = frozenset()
    checked: frozenset[str] = frozenset()
    state: dict[str, Any] = field(default_factory=dict)
    budget: RateBudget = field(default_factory=RateBudget)


@dataclass(frozen=True)
class PostedReply:
    external_id: str
    url: str = ""


@dataclass(frozen=True)
class AccountPost:
    """One post of another public account (a competitor's), with its public counts."""

    external_id: str
    published_at: datetime  # aware, UTC
    metrics: dict[str, int] = field(default_factory=dict)


def same_reply_text(posted: str, written: str) -> bool:
    """Whether the platform's text of a post is the text we sent: platforms escape ``&<>`` in what
    they return (X does) and may trim or fold whitespace."""

    def norm(text: str) -> str:
        return " ".join(html.unescape(text or "").split())

    return norm(posted) == norm(written)


def brands_reply_among(answers: list[tuple[str, str]], text: str, *, truncated: bool, platform: str) -> str | None:
    """The id of the brand's answer reading ``text`` among ``answers`` ((id, text) of the brand's own
    answers to one item, in the window looked at); None when there is certainly none.

    Unsure raises: an answer of the brand's with other text (the platform changed it, or a person
    answered by hand), or more answers than one page shows. A person looks before anything is posted.
    """
    for answer_id, answer_text in answers:
        if answer_id and same_reply_text(answer_text, text):
            return answer_id
    if answers:
        raise ConnectorError(f"{platform} shows another answer of the brand's to this item; it may be this reply")
    if truncated:
        raise ConnectorError(f"{platform} has more answers than one page shows; the reply may be among them")
    return None


def own_post_among(posts: list[tuple[str, str]], text: str, *, truncated: bool, platform: str) -> str | None:
    """The id of the brand's own post reading ``text`` among ``posts`` ((id, text) of the account's
    top-level posts in the window looked at); None when there is certainly none.

    Links are compared as links, not letter by letter: X returns every URL shortened to t.co. Unsure
    raises: a page that does not show all posts of the window. A post of the brand's with other text
    is another post (the team publishes several), not this one.
    """
    wanted = LINK.sub("<link>", text)
    for post_id, post_text in posts:
        if post_id and same_reply_text(LINK.sub("<link>", post_text), wanted):
            return post_id
    if truncated:
        raise ConnectorError(f"{platform} has more posts than one page shows; the post may be among them")
    return None


LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class SettingField:
    """One key of a channel's platform settings, as the API and the channel form accept it."""

    name: str
    kind: type = str  # str, int, bool, or list (of str: a list, or one text separated by commas or spaces)
    required: bool = False
    pattern: str = ""  # a regular expression a str value (each one, in a list) must match in full
    max_items: int = 0  # a list's longest length (0: any)


def _clean_value(spec: SettingField, value: Any) -> Any:
    if spec.kind is list:
        if isinstance(value, str):
            value = re.split(r"[\s,]+", value)
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise ValueError(_("Must be a list of words, or one text with them separated by commas."))
        items = list(dict.fromkeys(text for item in value if (text := item.strip())))
        for item in items:
            if spec.pattern and not re.fullmatch(spec.pattern, item):
                raise ValueError(_("Not a valid value: %(value)s.") % {"value": item[:80]})
        if spec.max_items and len(items) > spec.max_items:
            raise ValueError(_("At most %(count)d.") % {"count": spec.max_items})
        return items
    if spec.kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(_("Must be true or false."))
    if spec.kind is int:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
            raise ValueError(_("Must be a whole number."))
        number = int(value)
        if number < 1:
            raise ValueError(_("Must be 1 or more."))
        return number
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(_("Must be text."))
    text = str(value).strip()
    if spec.pattern and text and not re.fullmatch(spec.pattern, text):
        raise ValueError(_("Not a valid value: %(value)s.") % {"value": text[:80]})
    return text


class Connector:
    """Base class. Subclasses set ``platform`` and implement ``fetch`` and ``post_reply``.

    ``settings_fields`` and ``credential_keys`` say what a channel of this platform is configured
    with; ``clean_settings`` and ``clean_credentials`` check what a person or the API sends.
    """

    platform: ClassVar[str]
    reply_max_length: ClassVar[int] = 5000
    # The longest post the platform takes as ``text_length`` counts it; 0: nothing can be published
    # there from Escucha (feeds are read-only; YouTube takes videos, Instagram images, not text).
    post_max_length: ClassVar[int] = 0
    default_base_url: ClassVar[str] = ""
    settings_fields: ClassVar[tuple[SettingField, ...]] = ()
    # At least one of these settings must be given (what to listen to).
    settings_need_one_of: ClassVar[tuple[str, ...]] = ()
    credential_keys: ClassVar[tuple[str, ...]] = ()
    # Credentials the connector stores itself, never a person: what it learns with a token it renews
    # (when that token expires). They go stale when a person gives credentials, and are dropped then.
    issued_credential_keys: ClassVar[tuple[str, ...]] = ()
    # Platform deletions (``listening.privacy.platform_deletions_check``): which stored items are
    # asked about — those published in the last ``deletion_window_days()`` (None: all of them), each
    # again once ``deletion_recheck_hours`` have passed since it was stored or last checked — and
    # at most ``deletion_batch`` of them per run. A platform that offers no way to tell has none (0).
    deletion_recheck_hours: ClassVar[int] = 24
    deletion_batch: ClassVar[int] = 0

    @classmethod
    def clean_settings(cls, raw: Any, *, api_base_url: str = "") -> tuple[dict[str, Any], dict[str, str]]:
        """(cleaned settings, errors by key). Unknown keys are errors, so a typo is never ignored."""
        if not isinstance(raw, dict):
            return {}, {"settings": _("Must be an object of platform settings.")}
        fields = {spec.name: spec for spec in cls.settings_fields}
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, value in raw.items():
            spec = fields.get(key)
            if spec is None:
                errors[key] = _("Unknown setting for this platform. Known: %(keys)s.") % {
                    "keys": ", ".join(sorted(fields))
                }
                continue
            if value is None or value == "":
                continue
            try:
                cleaned[key] = _clean_value(spec, value)
            except ValueError as error:
                errors[key] = str(error)
        for spec in cls.settings_fields:
            if spec.required and spec.name not in cleaned and spec.name not in errors:
                errors[spec.name] = _("This setting is required.")
        if cls.settings_need_one_of and not any(cleaned.get(key) for key in cls.settings_need_one_of):
            errors.setdefault(
                cls.settings_need_one_of[0],
                _("Give at least one of: %(keys)s.") % {"keys": ", ".join(cls.settings_need_one_of)},
            )
        return cleaned, errors

    @classmethod
    def settings_errors(cls, settings: dict[str, Any], *, channel: Channel | None) -> dict[str, str]:
        """What is wrong with cleaned ``settings`` given what is stored (a budget the platform keeps
        per account), by key, for ``channel`` (None: a new one). The form and the API show these."""
        return {}

    @classmethod
    def address(cls, settings: dict[str, Any], api_base_url: str) -> tuple[str, str]:
        """Where a channel of this platform connects, and so where its credentials go: (the field that
        sets it, the URL; "" for the platform's own host)."""
        return "api_base_url", (api_base_url or "").strip()

    @classmethod
    def clean_credentials(cls, raw: Any) -> tuple[dict[str, str], dict[str, str]]:
        """(cleaned credentials, errors by key): known keys only, each a non-empty string."""
        if not isinstance(raw, dict):
            return {}, {"credentials": _("Must be an object of credentials.")}
        cleaned: dict[str, str] = {}
        errors: dict[str, str] = {}
        for key, value in raw.items():
            if key not in cls.credential_keys:
                known = ", ".join(cls.credential_keys) or _("none")
                errors[key] = _("Unknown credential for this platform. Known: %(keys)s.") % {"keys": known}
            elif not isinstance(value, str) or not value.strip():
                errors[key] = _("Must be a non-empty string.")
            else:
                cleaned[key] = value.strip()
        return cleaned, errors

    @classmethod
    def text_length(cls, text: str) -> int:
        """The length of ``text`` as the platform counts it against its limits (Unicode code points
        here; X weighs characters and counts every link as 23)."""
        return len(text)

    @classmethod
    def post_text(cls, text: str, link: str) -> str:
        """What is published as the post's text: platforms without a link field take it in the text."""
        return f"{text} {link}".strip() if link else text

    def __init__(self, channel: Channel):
        self.channel = channel
        self.settings: dict[str, Any] = channel.settings or {}
        self.credentials: dict[str, Any] = channel.credentials or {}
        self.base_url = (channel.api_base_url or self.default_base_url).rstrip("/")

    def recent_threads(self, since: datetime) -> dict[str, datetime]:
        """The channel's conversations that moved since ``since`` (root item id → newest activity),
        as the comments that polls and webhooks stored tell."""
        if self.channel.pk is None:
            return {}
        from listening.selectors import channel_recent_threads

        return channel_recent_threads(channel=self.channel, since=since)

    def comment_order(
        self, cursor: dict[str, Any], newest: list[str], *, window_start: datetime, not_before: int
    ) -> tuple[list[str], dict[str, int]]:
        """The posts (or media) whose comments a poll reads, in the order it reads them, and the posts
        the cursor owes (post → the floor their unread comments start at).

        Comments are read one request per post and a post's new comments do not bring it back to
        the top of its list, so a budget reads the posts owed by earlier polls first (oldest floor
        first, so nothing waits for ever), then the conversations that moved since ``window_start``
        (``recent_threads``: what polls and webhook deliveries stored), then ``newest``. An owed
        post whose floor is older than ``not_before`` (same unit as the floors) is not read any
        more, as any post of that age. The posts a poll leaves unread go back in the cursor through
        ``owe_comments`` and the channel shows how many (``FetchResult.deferred``).
        """
        owed = {
            str(post): int(floor)
            for post, floor in (cursor.get("comments_owed") or {}).items()
            if isinstance(floor, int | float) and not isinstance(floor, bool) and floor >= not_before
        }
        active = self.recent_threads(window_start)
        return list(dict.fromkeys([*sorted(owed, key=owed.__getitem__), *active, *newest])), owed

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        """Items newer than ``cursor`` (one page or a bounded number of pages)."""
        raise NotImplementedError

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        """Publish ``text`` as a public answer to the item ``parent_external_id``."""
        raise NotImplementedError

    def find_reply(self, parent_external_id: str, text: str, *, since: datetime) -> PostedReply | None:
        """The brand's own answer to ``parent_external_id`` reading ``text``, posted since ``since``
        (a delivery whose outcome was lost); None when the platform certainly has none.

        Raises ``ConnectorError`` when it cannot tell, and ``NotImplementedError`` where the platform
        offers no way to read the brand's answers back.
        """
        raise NotImplementedError

    def hide_comment(self, external_id: str, hidden: bool) -> None:
        """Hide (``hidden``) or show again a comment on the brand's own content: the platform keeps
        it, and its author still sees it. ``NotImplementedError`` where the platform cannot."""
        raise NotImplementedError

    def delete_comment(self, external_id: str) -> None:
        """Delete a comment on the brand's own content from the platform, for good."""
        raise NotImplementedError

    def publish_post(self, text: str, link: str = "") -> PostedReply:
        """Publish a post of the brand's own account or page (``link``: a URL to share with it)."""
        raise NotImplementedError

    def find_post(self, text: str, link: str = "", *, since: datetime) -> PostedReply | None:
        """The brand's own post reading ``text`` published since ``since`` (a publication whose
        outcome was lost); None when the platform certainly has none. Raises like ``find_reply``."""
        raise NotImplementedError

    def post_metrics(self, external_ids: list[str]) -> dict[str, dict[str, int]]:
        """Public counts of the brand's posts ``external_ids`` (post id → counts); a post the platform
        no longer has is left out."""
        raise NotImplementedError

    def account_posts(self, account: str, *, since: datetime) -> list[AccountPost]:
        """The public top-level posts of another account (an X handle, a public Page's id or name)
        since ``since``, with their public counts, read with this channel's credentials. Raises
        like ``fetch``."""
        raise NotImplementedError

    @classmethod
    def deletion_window_days(cls) -> int | None:
        return None

    def check_deleted(self, external_ids: list[str], state: dict[str, Any]) -> DeletionCheck:
        """Which of ``external_ids`` the platform no longer has; with ``state``, the result of the
        background check it describes (``external_ids`` is then empty).

        Raises the contract's errors; ``NotImplementedError`` where the platform cannot tell.
        """
        raise NotImplementedError

    @classmethod
    def item_url(cls, external_id: str) -> str:
        """The public address of an item known only by its id (a parent we never stored), or ""
        when the platform's ids do not make one."""
        return ""


def owe_comments(posts: list[str], owed: dict[str, int], floor: int) -> dict[str, int]:
    """``comments_owed`` for the posts a poll did not read: each from the floor it was owed at, else
    from the poll's own floor (whichever is older), so no comment is skipped when the floor moves."""
    return {post: min(owed.get(post, floor), floor) for post in posts}
