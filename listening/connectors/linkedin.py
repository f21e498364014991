"""LinkedIn organization page through LinkedIn's own client (linkedin-api-client's ``RestliClient``)
on the versioned REST API, with the ``LinkedIn-Version`` header from the channel's settings.

Settings: ``organization_id`` (required: the number in ``urn:li:organization:<id>``),
``linkedin_version`` (``YYYYMM``, default ``DEFAULT_VERSION``), ``lookback_days`` (7: comments are
read on posts of the last days), ``max_comment_posts`` (25 posts a poll), ``max_pages`` (5 pages a
list and poll), ``include_own_posts`` (false: the organization's own comments are the brand's
voice), ``skip_mentions`` (false: posts that @mention the organization are read; set it where the
token was not granted ``rw_organization_admin``), ``daily_call_limit`` (see below).
Credentials: ``access_token`` (3-legged OAuth 2.0 token of a page administrator), and to renew it
``client_id``, ``client_secret``, ``refresh_token``. The connector stores the expiry it learns
with each renewed token (``issued_credential_keys``) and renews a day before.

What is read:

- comments and replies on the organization's posts: ``GET /rest/posts?q=author&author=<org>``
  (newest first), then ``GET /rest/socialActions/{post}/comments`` on each post of the last
  ``lookback_days`` and on each older post whose conversation moved lately (``recent_threads``: a
  post's new comments do not bring it back among the recent posts), ``max_comment_posts`` a poll, and ``GET /rest/socialActions/{comment}/comments`` for the replies of a comment
  whose reply count moved;
- posts that @mention the organization: ``GET /rest/organizationalEntityNotifications?q=criteria``
  with ``actions=List(SHARE_MENTION)`` and a ``timeRange`` from the cursor on, each post read with
  ``GET /rest/posts/{urn}``. That finder is what the current Community Management API documents for
  an organization's mentions (Organization Social Action Notifications, the pull form of its
  webhook); it keeps 60 days.

Cursor: ``{"since": <ms of the newest comment seen>, "mentions_since": <ms of the newest mention
notification seen>, "replies": {comment → replies seen}}``. Only comments newer than ``since`` are stored. A post's comment list is read page
by page (Rest.li ``start``/``count``, at most ``max_pages``), since its order is not documented and a
comment's reply count is what tells that it has new replies: the replies of a comment are read
only when that count moved since the last poll. A fault part-way (a 429, a 5xx, a timeout, malformed
JSON, a token revoked mid-poll) keeps the posts whose comments were all read (``FetchResult.error``);
the posts not read are owed, ``"comments_owed": {post → the ``since`` they are read from}``, and read
first by the next poll, and the mentions are read again from where they were. The posts past
``max_comment_posts`` are owed the same way (``Connector.comment_order``), and the channel shows how
many.

Rate limits: LinkedIn publishes no remaining count in its answers; a 429 says a daily limit is
spent (they reset at midnight UTC: https://learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits),
and the channel waits until then. With ``daily_call_limit`` set (the app's Analytics tab in the
developer portal shows it), the channel counts its own calls and shows what is left of the day.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import requests
from django.core.cache import cache
from linkedin_api.clients.auth.client import AuthClient
from linkedin_api.clients.restli.client import RestliClient
from linkedin_api.common.errors import ResponseFormattingError

from listening.connectors._http import mount_outbound, unique_items
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    Connector,
    ConnectorError,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    PostedReply,
    RateBudget,
    RateLimited,
    RejectedItem,
    SettingField,
    brands_reply_among,
    owe_comments,
    own_post_among,
    unreadable_item,
)

if TYPE_CHECKING:
    from listening.models import Channel

log = logging.getLogger(__name__)

# The hosts linkedin-api-client hard-codes: the REST API and the OAuth endpoints.
OFFICIAL_HOSTS = ("https://api.linkedin.com", "https://www.linkedin.com")
DEFAULT_VERSION = "202610"
PAGE_SIZE = 100  # comments a page (the API's most); posts and notifications take at most 100 too
POSTS_PAGE_SIZE = 50
REFRESH_MARGIN = timedelta(days=1)  # renew the access token this long before it expires
MENTIONS_OVERLAP_MS = 10 * 60 * 1000  # a notification may be recorded a little after its time
NOTIFICATIONS_KEPT = timedelta(days=59)  # LinkedIn keeps an organization's notifications 60 days
SHORT_RETRY_AFTER = 5 * 60  # a 429 that is not a daily limit (LinkedIn's infrastructure protection)
# A post's commentary is "little text": mentions as @[Name](urn), hashtags as {hashtag|\#|tag}, and the
# reserved characters escaped with a backslash.
# https://learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format
LITTLE_MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\(urn:li:[A-Za-z]+:[^)]*\)")
LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\?#\|((?:\\.|[^}\\])*)\}")
LITTLE_ESCAPE = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")
LITTLE_RESERVED = re.compile(r"([|{}@\[\]()<>#\\*_~])")
# A hashtag as people write it: "#" after a space or at the start, then letters, digits or "_".
LITTLE_TAG = re.compile(r"(?<![^\s(])#([^\W_][\w]*)")
COMMENT_URN = re.compile(r"urn:li:comment:\((urn:li:[A-Za-z]+:[^,()]+),([^()]+)\)")


def next_midnight_utc(now: datetime | None = None) -> datetime:
    """When LinkedIn's daily limits reset."""
    now = now or datetime.now(UTC)
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def seconds_until_midnight_utc(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    return (next_midnight_utc(now) - now).total_seconds()


def _ms_time(value: Any) -> datetime:
    """LinkedIn times are epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a time: {value!r}")
    return datetime.fromtimestamp(value / 1000, UTC)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _parse_iso(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def plain_text(commentary: str) -> str:
    """A post's little-text commentary as people read it: "@Acme", "#AcmeSummer", no escapes."""
    text = LITTLE_MENTION.sub(lambda m: "@" + m.group(1), commentary)
    text = LITTLE_HASHTAG.sub(lambda m: "#" + m.group(1), text)
    return LITTLE_ESCAPE.sub(r"\1", text)


def little_text(text: str) -> str:
    """``text`` as a post's commentary takes it: every reserved character escaped, so it shows as
    written, except a ``#word``, which stays a hashtag as people mean it."""
    parts = []
    last = 0
    for match in LITTLE_TAG.finditer(text):
        parts.append(LITTLE_RESERVED.sub(r"\\\1", text[last : match.start()]))
        parts.append("{hashtag|\\#|" + match.group(1) + "}")
        last = match.end()
    parts.append(LITTLE_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(parts)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip()[:255] if lines else ""


def activity_of(urn: str) -> str:
    """The post (activity) a comment URN hangs on, or ``urn`` itself for a post."""
    match = COMMENT_URN.fullmatch(urn)
    return match.group(1) if match else urn


def _link(urn: str) -> str:
    match = COMMENT_URN.fullmatch(urn)
    if match:
        return f"https://www.linkedin.com/feed/update/{match.group(1)}/?commentUrn={quote(urn, safe='')}"
    return f"https://www.linkedin.com/feed/update/{urn}/" if urn.startswith("urn:li:") else ""


def _author(urn: Any) -> FetchedAuthor:
    urn = str(urn or "")
    # The versioned API names a commenter by URN only: no name, and no profile address for a person
    # (a member's public address is not derived from the URN); an organization's page is. No documented
    # call names them either: the Profile API reads the authenticated member only, and its terms forbid
    # storing what it returns about anyone else
    # (https://learn.microsoft.com/linkedin/shared/integrations/people/profile-api).
    organization = urn.removeprefix("urn:li:organization:")
    profile = f"https://www.linkedin.com/company/{organization}/" if organization.isdigit() else ""
    return FetchedAuthor(external_id=urn or "unknown", profile_url=profile)


class LinkedInConnector(Connector):
    platform = "linkedin"
    reply_max_length: ClassVar[int] = 1250  # a comment's limit on LinkedIn
    post_max_length: ClassVar[int] = 3000  # a post's commentary, as people read it
    default_base_url = ""  # blank: linkedin-api-client's own hosts
    settings_fields = (
        SettingField("organization_id", required=True, pattern=r"[0-9]{1,20}"),
        SettingField("linkedin_version", pattern=r"20[0-9]{2}(0[1-9]|1[0-2])(\.[0-9]{2})?"),
        SettingField("lookback_days", int),
        SettingField("max_comment_posts", int),
        SettingField("max_pages", int),
        SettingField("include_own_posts", bool),
        SettingField("skip_mentions", bool),
        SettingField("daily_call_limit", int),
    )
    credential_keys = ("access_token", "client_id", "client_secret", "refresh_token")
    issued_credential_keys = ("access_token_expires_at", "refresh_token_expires_at")

    def __init__(self, channel: Channel):
        super().__init__(channel)
        self._last: dict[str, requests.Response] = {}
        self._client: RestliClient | None = None
        self._titles: dict[str, str] = {}  # post → its first line, for reports

    @property
    def organization(self) -> str:
        return f"urn:li:organization:{self.settings.get('organization_id') or ''}"

    @property
    def version(self) -> str:
        return str(self.settings.get("linkedin_version") or DEFAULT_VERSION)

    # --- OAuth 2.0 ----------------------------------------------------------------------------
    def _can_refresh(self) -> bool:
        creds = self.credentials
        return bool(creds.get("refresh_token") and creds.get("client_id") and creds.get("client_secret"))

    def _token(self) -> str:
        """An access token good for a day at least: the stored one, or a renewed one."""
        token = str(self.credentials.get("access_token") or "")
        expires = _parse_iso(self.credentials.get("access_token_expires_at"))
        now = datetime.now(UTC)
        if token and (expires is None or expires - now > REFRESH_MARGIN):
            return token
        if self._can_refresh():
            return self._refresh()
        if token and expires is not None and expires > now:
            return token  # cannot be renewed: good until it expires
        raise ConnectorError(
            "LinkedIn's access token has expired and no refresh token is stored to renew it", reconnect=True
        )

    def _refresh(self) -> str:
        """Renew the access token with the refresh token (LinkedIn's programmatic refresh:
        https://learn.microsoft.com/linkedin/shared/authentication/programmatic-refresh-tokens) and store it."""
        creds = self.credentials
        refresh_expires = _parse_iso(creds.get("refresh_token_expires_at"))
        if refresh_expires is not None and refresh_expires <= datetime.now(UTC):
            raise ConnectorError(
                "LinkedIn's refresh token has expired: a page admin must sign in again", reconnect=True
            )
        auth = AuthClient(client_id=creds["client_id"], client_secret=creds["client_secret"])
        mount_outbound(auth.session, self.base_url, OFFICIAL_HOSTS)
        last: dict[str, requests.Response] = {}
        auth.session.hooks["response"].append(lambda response, *args, **kwargs: last.update(response=response))
        try:
            answer = auth.exchange_refresh_token_for_access_token(refresh_token=creds["refresh_token"])
        except ResponseFormattingError as exc:
            raise self._error(last.get("response"), "renewing the token") from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"LinkedIn could not be reached to renew the token: {exc}") from exc
        finally:
            auth.session.close()
        if answer.status_code in (400, 401):
            # invalid_request / invalid_grant: the refresh token was revoked, expired or never valid.
            raise ConnectorError(
                "LinkedIn refused the refresh token: a page admin must sign in again", reconnect=True, status=401
            )
        if answer.status_code != 200 or not answer.access_token:
            raise self._error(answer.response, "renewing the token")
        now = datetime.now(UTC)
        tokens = {"access_token": str(answer.access_token)}
        if isinstance(answer.expires_in, int):
            tokens["access_token_expires_at"] = (now + timedelta(seconds=answer.expires_in)).isoformat()
        if answer.refresh_token:
            tokens["refresh_token"] = str(answer.refresh_token)
        if isinstance(answer.refresh_token_expires_in, int):
            tokens["refresh_token_expires_at"] = (now + timedelta(seconds=answer.refresh_token_expires_in)).isoformat()
        self._store_tokens(tokens)
        return tokens["access_token"]

    def _store_tokens(self, tokens: dict[str, str]) -> None:
        used = {"refresh_token": str(self.credentials.get("refresh_token") or "")}
        if self.channel.pk is not None:
            from listening.services import channel_tokens_renewed

            channel_tokens_renewed(channel=self.channel, used=used, tokens=tokens)
            self.credentials = dict(self.channel.credentials or {})
        else:
            self.credentials = {**self.credentials, **tokens}
        if self.credentials.get("access_token") != tokens["access_token"]:
            # A person saved other credentials while this one renewed: theirs are used.
            log.info("LinkedIn channel %s: credentials changed during a renewal", self.channel.pk)

    # --- calls --------------------------------------------------------------------------------
    def _restli(self) -> RestliClient:
        if self._client is None:
            client = RestliClient()
            # The token travels in the Authorization header the library sets.
            mount_outbound(client.session, self.base_url, OFFICIAL_HOSTS)
            client.session.hooks["response"].append(
                lambda response, *args, **kwargs: self._last.update(response=response)
            )
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
            self._client = None

    def _call(self, method: str, **kwargs: Any) -> Any:
        """One Rest.li call with a valid token; an expired or revoked one is renewed once and the call
        made again. Returns the library's response, or raises one of the contract's errors."""
        for attempt in range(2):
            token = self._token()
            self._count_call()
            client = self._restli()
            self._last.clear()
            try:
                answer = getattr(client, method)(access_token=token, version_string=self.version, **kwargs)
            except ResponseFormattingError as exc:
                raise self._error(self._last.get("response"), "") from exc
            except requests.RequestException as exc:
                raise ConnectorError(f"LinkedIn could not be reached: {exc}") from exc
            if 200 <= answer.status_code < 300:
                return answer
            if answer.status_code == 401 and attempt == 0 and self._can_refresh():
                # The token expired early or was revoked: renew it and try once more.
                self._refresh()
                continue
            raise self._error(answer.response, "")
        raise ConnectorError("LinkedIn refused the renewed token", reconnect=True, status=401)

    def _error(self, response: requests.Response | None, doing: str) -> ConnectorError:
        status = getattr(response, "status_code", None)
        try:
            body = response.json() if response is not None else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        detail = str(body.get("message") or body.get("error_description") or body.get("code") or status or "")
        what = f" {doing}" if doing else ""
        if status == 429:
            if "DAY" in detail.upper():  # "Resource level throttle APPLICATION DAY limit ... is reached"
                return RateLimited(
                    f"LinkedIn daily rate limit reached{what}: {detail}", retry_after=seconds_until_midnight_utc()
                )
            return RateLimited(f"LinkedIn rate limit reached{what}: {detail}", retry_after=SHORT_RETRY_AFTER)
        if status == 401:
            return ConnectorError(f"LinkedIn refused the token{what}: {detail}", reconnect=True, status=401)
        if status == 403:
            return ConnectorError(
                f"LinkedIn refused the permission{what} (the token needs the organization's admin scopes): {detail}",
                reconnect=True,
                status=403,
            )
        if status is None or status >= 500:
            return ConnectorError(f"LinkedIn server error{what}: {detail or 'no answer'}", status=status)
        if not body:
            return ConnectorError(f"LinkedIn sent a malformed payload{what} ({status})", status=status)
        return ConnectorError(f"LinkedIn rejected the request{what}: {detail}", permanent=True, status=status)

    def _count_key(self) -> str:
        return f"linkedin:calls:{self.channel.pk}:{datetime.now(UTC):%Y-%m-%d}"

    def _count_call(self) -> None:
        if not self.settings.get("daily_call_limit") or self.channel.pk is None:
            return
        key = self._count_key()
        if not cache.add(key, 1, timeout=int(seconds_until_midnight_utc()) + 60):
            try:
                cache.incr(key)
            except ValueError:  # expired between the two
                cache.add(key, 1, timeout=int(seconds_until_midnight_utc()) + 60)

    def _budget(self) -> RateBudget:
        reset = next_midnight_utc()
        limit = self.settings.get("daily_call_limit")
        if not limit or self.channel.pk is None:
            return RateBudget(reset_at=reset)
        used = int(cache.get(self._count_key()) or 0)
        return RateBudget(remaining=max(int(limit) - used, 0), reset_at=reset)

    def _pages(self, method: str, page_size: int, **kwargs: Any) -> Any:
        """The elements of each Rest.li page (``start``/``count``) of a collection, at most ``max_pages``
        pages; the caller stops early by leaving the loop. More pages follow while ``paging.total``
        says so or, where a collection gives no total (posts), while ``paging.links`` has a "next"."""
        query = dict(kwargs.pop("query_params", {}) or {})
        start = 0
        for _ in range(max(int(self.settings.get("max_pages") or 5), 1)):
            answer = self._call(method, query_params={**query, "start": start, "count": page_size}, **kwargs)
            elements = answer.elements
            if not isinstance(elements, list):
                raise ConnectorError("LinkedIn sent an unexpected payload shape")
            yield elements
            try:
                paging = answer.response.json().get("paging") or {}
            except (ValueError, AttributeError):
                paging = {}
            start += len(elements)
            total, links = paging.get("total"), paging.get("links")
            if not elements:
                return
            if isinstance(total, int) and not isinstance(total, bool):
                more = start < total
            elif isinstance(links, list):
                more = any(isinstance(link, dict) and link.get("rel") == "next" for link in links)
            else:
                more = len(elements) >= page_size
            if not more:
                return

    # --- reading ------------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        if not self.settings.get("organization_id"):
            raise ConnectorError("LinkedIn channel needs an organization_id setting", permanent=True)
        try:
            return self._fetch(cursor or {})
        finally:
            self.close()

    def _fetch(self, cursor: dict[str, Any]) -> FetchResult:
        now = datetime.now(UTC)
        lookback = timedelta(days=int(self.settings.get("lookback_days") or 7))
        floor_ms = int(cursor.get("since") or _ms(now - lookback))
        items: list[FetchedItem] = []
        rejected: list[RejectedItem] = []
        replies_seen = {str(k): int(v) for k, v in (cursor.get("replies") or {}).items() if isinstance(v, int)}
        replies_now: dict[str, int] = {}
        listed: set[str] = set()  # the comments whose reply counts this poll read
        posts = self._recent_posts(now - lookback)
        budget = max(int(self.settings.get("max_comment_posts") or 25), 0)
        # Comments are read one post at a time, at most ``budget`` posts a poll: first the posts owed
        # by earlier polls (a budget cut or a fault), each from its own floor, then the conversations
        # that moved lately (an older post's comments do not bring it back among the newest), then
        # the newest posts. The rest are owed to the next polls, and the channel says how many.
        # An owed post is dropped once its floor is a lookback older than the poll's (as Facebook's).
        order, owed = self.comment_order(
            cursor, posts, window_start=now - lookback, not_before=floor_ms - int(lookback.total_seconds() * 1000)
        )
        still_owed = owe_comments(order[budget:], owed, floor_ms)
        order = order[:budget]
        # A post's comments count once all of them (and the replies that moved) were read: a fault on
        # the way keeps the posts before it and owes this one and the rest, from their floors.
        error: ConnectorError | None = None
        for index, post_urn in enumerate(order):
            post_items: list[FetchedItem] = []
            post_rejected: list[RejectedItem] = []
            post_replies: dict[str, int] = {}
            post_listed: set[str] = set()
            post_floor = owed.get(post_urn, floor_ms)
            try:
                self._read_comments(
                    post_urn, post_urn, post_floor, post_items, post_rejected, replies_seen, post_replies, post_listed
                )
            except ConnectorError as exc:
                if index == 0:
                    raise  # nothing read: the cursor stays as it was
                error = exc
                still_owed = {**owe_comments(order[index:], owed, floor_ms), **still_owed}
                break
            items.extend(post_items)
            rejected.extend(post_rejected)
            replies_now.update(post_replies)
            listed |= post_listed

        mentions_since = int(cursor.get("mentions_since") or floor_ms)
        if error is None and not self.settings.get("skip_mentions"):
            start = max(mentions_since - MENTIONS_OVERLAP_MS, _ms(now - NOTIFICATIONS_KEPT))
            mentions_rejected: list[RejectedItem] = []
            try:
                mentioned, newest_note = self._mentions(start, _ms(now), mentions_rejected)
            except ConnectorError as exc:
                if not order:
                    raise  # nothing read: the cursor stays as it was
                error = exc  # the comments are kept; the mentions are read again from where they were
            else:
                items.extend(mentioned)
                rejected.extend(mentions_rejected)
                mentions_since = max(mentions_since, newest_note)

        newest = max((_ms(item.published_at) for item in items if item.kind != "mention"), default=floor_ms)
        if error is not None or still_owed:
            # The reply counts of comments on posts not read stay known, so their replies are not read twice.
            replies_now = {**{k: v for k, v in replies_seen.items() if k not in listed}, **replies_now}
        new_cursor: dict[str, Any] = {
            "since": max(newest, floor_ms),
            "mentions_since": mentions_since,
            "replies": replies_now,
        }
        if still_owed:
            new_cursor["comments_owed"] = still_owed
        return FetchResult(
            items=unique_items(items),
            cursor=new_cursor,
            budget=self._budget(),
            deferred=len(still_owed),
            rejected=rejected,
            error=error,
        )

    def _recent_posts(self, since: datetime) -> list[str]:
        """The organization's posts modified since ``since``, newest first (``sortBy=LAST_MODIFIED``)."""
        urns: list[str] = []
        for elements in self._pages(
            "finder",
            POSTS_PAGE_SIZE,
            resource_path="/posts",
            finder_name="author",
            query_params={"author": self.organization, "sortBy": "LAST_MODIFIED"},
        ):
            older = False
            for post in elements:
                if not isinstance(post, dict) or not post.get("id"):
                    continue
                changed = post.get("lastModifiedAt") or post.get("publishedAt") or post.get("createdAt")
                if isinstance(changed, int) and _ms_time(changed) < since:
                    older = True
                    break
                urns.append(str(post["id"]))
                self._titles[str(post["id"])] = _first_line(plain_text(str(post.get("commentary") or "")))
            if older:
                break
        return urns

    def _read_comments(
        self,
        target: str,
        post_urn: str,
        floor_ms: int,
        items: list[FetchedItem],
        rejected: list[RejectedItem],
        replies_seen: dict[str, int],
        replies_now: dict[str, int],
        listed: set[str],
    ) -> None:
        """Comments on ``target`` (a post, or a comment for its replies) newer than ``floor_ms``;
        ``listed`` gathers the post's comments whose reply counts were read."""
        include_own = bool(self.settings.get("include_own_posts", False))
        try:
            pages = list(
                self._pages(
                    "get_all", PAGE_SIZE, resource_path="/socialActions/{id}/comments", path_keys={"id": target}
                )
            )
        except ConnectorError as exc:
            if exc.status == 404:  # the post or comment was deleted since it was listed
                return
            raise
        for comment in (c for page in pages for c in page):
            if not isinstance(comment, dict):
                continue
            try:
                urn = str(comment.get("commentUrn") or "")
                if not urn:
                    raise KeyError("commentUrn")
                replies = (comment.get("commentsSummary") or {}).get("totalFirstLevelComments")
                if target == post_urn:
                    listed.add(urn)
                if isinstance(replies, int) and replies and target == post_urn:
                    replies_now[urn] = replies
                    if replies_seen.get(urn) != replies:
                        self._read_comments(urn, post_urn, floor_ms, items, rejected, replies_seen, replies_now, listed)
                published = _ms_time((comment.get("created") or {}).get("time"))
                if _ms(published) < floor_ms:
                    continue
                if str(comment.get("actor") or "") == self.organization and not include_own:
                    continue
                items.append(self._comment(comment, post_urn, parent=target))
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("LinkedIn", {"id": comment.get("commentUrn")}, exc))

    def _comment(self, comment: dict[str, Any], post_urn: str, *, parent: str) -> FetchedItem:
        urn = str(comment["commentUrn"])
        parent_comment = str(comment.get("parentComment") or "")
        kind = "reply" if parent_comment or parent != post_urn else "comment"
        likes = (comment.get("likesSummary") or {}).get("totalLikes")
        return FetchedItem(
            external_id=urn,
            text=str((comment.get("message") or {}).get("text") or ""),
            author=_author(comment.get("actor")),
            published_at=_ms_time((comment.get("created") or {}).get("time")),
            kind=kind,
            url=_link(urn),
            parent_external_id=parent_comment or parent,
            source=post_urn,
            source_title=self._titles.get(post_urn, ""),
            metrics={"likes": likes} if isinstance(likes, int) and not isinstance(likes, bool) else {},
        )

    def _mentions(self, start_ms: int, end_ms: int, rejected: list[RejectedItem]) -> tuple[list[FetchedItem], int]:
        """Posts that @mention the organization, from its social action notifications, and the time
        of the newest notification (0 when none)."""
        posts: list[str] = []
        newest = 0
        for elements in self._pages(
            "finder",
            PAGE_SIZE,
            resource_path="/organizationalEntityNotifications",
            finder_name="criteria",
            query_params={
                "organizationalEntity": self.organization,
                "actions": ["SHARE_MENTION"],
                "timeRange": {"start": max(start_ms, 0), "end": end_ms},
            },
        ):
            for note in elements:
                if isinstance(note, dict) and note.get("action") == "SHARE_MENTION":
                    if isinstance(note.get("lastModifiedAt"), int):
                        newest = max(newest, note["lastModifiedAt"])
                    urn = str(note.get("generatedActivity") or note.get("sourcePost") or "")
                    if urn and urn not in posts:
                        posts.append(urn)
        items = []
        for urn in posts:
            try:
                post = self._call("get", resource_path="/posts/{id}", path_keys={"id": urn}).entity
            except ConnectorError as exc:
                if exc.status == 404:  # deleted since
                    continue
                raise
            try:
                items.append(self._post(post))
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("LinkedIn", post if isinstance(post, dict) else {"id": urn}, exc))
        return items, newest

    @staticmethod
    def _post(post: Any) -> FetchedItem:
        urn = str(post["id"])
        text = plain_text(str(post.get("commentary") or ""))
        return FetchedItem(
            external_id=urn,
            text=text,
            source_title=_first_line(text),
            author=_author(post.get("author")),
            published_at=_ms_time(post.get("publishedAt") or post.get("createdAt")),
            kind="mention",
            url=_link(urn),
            source=urn,
        )

    @classmethod
    def item_url(cls, external_id: str) -> str:
        return _link(external_id)

    # --- replying -----------------------------------------------------------------------------
    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        """A comment as the organization on a post, or a reply to a comment (``parentComment``):
        https://learn.microsoft.com/linkedin/marketing/community-management/shares/comments-api"""
        activity = activity_of(parent_external_id)
        body: dict[str, Any] = {"actor": self.organization, "object": activity, "message": {"text": text}}
        if parent_external_id != activity:
            body["parentComment"] = parent_external_id
        try:
            answer = self._call(
                "create",
                resource_path="/socialActions/{id}/comments",
                path_keys={"id": parent_external_id},
                entity=body,
            )
        finally:
            self.close()
        entity = answer.entity if isinstance(answer.entity, dict) else {}
        urn = str(entity.get("commentUrn") or "")
        if not urn:
            comment_id = str(entity.get("id") or answer.entity_id or "")
            if not comment_id:
                raise ConnectorError("LinkedIn did not return the id of the reply")
            urn = (
                comment_id if comment_id.startswith("urn:li:comment:") else f"urn:li:comment:({activity},{comment_id})"
            )
        return PostedReply(external_id=urn, url=_link(urn))

    def find_reply(self, parent_external_id: str, text: str, *, since: datetime) -> PostedReply | None:
        """The organization's own answer among the comments on ``parent_external_id`` since ``since``."""
        try:
            answer = self._call(
                "get_all",
                resource_path="/socialActions/{id}/comments",
                path_keys={"id": parent_external_id},
                query_params={"start": 0, "count": PAGE_SIZE},
            )
        finally:
            self.close()
        elements = answer.elements if isinstance(answer.elements, list) else []
        floor = _ms(since)
        answers = [
            (str(c.get("commentUrn") or ""), str((c.get("message") or {}).get("text") or ""))
            for c in elements
            if isinstance(c, dict)
            and str(c.get("actor") or "") == self.organization
            and isinstance((c.get("created") or {}).get("time"), int)
            and c["created"]["time"] >= floor
        ]
        total = answer.paging.total
        truncated = isinstance(total, int) and total > len(elements)
        found = brands_reply_among(answers, text, truncated=truncated, platform="LinkedIn")
        return PostedReply(external_id=found, url=_link(found)) if found else None

    # --- publishing ---------------------------------------------------------------------------
    # A link travels in the text (``Connector.post_text``), where LinkedIn shows it as a link and it
    # counts toward the 3,000 characters. An article content would need a title and, for a preview,
    # a thumbnail uploaded through the Images API: LinkedIn does not fetch a page's preview for a
    # post made through the API (https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api).
    def publish_post(self, text: str, link: str = "") -> PostedReply:
        """A post of the organization's own on its page and its followers' feeds: ``POST /rest/posts``;
        its URN comes back in the ``x-restli-id`` header."""
        body = {
            "author": self.organization,
            "commentary": little_text(self.post_text(text, link)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        try:
            answer = self._call("create", resource_path="/posts", entity=body)
        finally:
            self.close()
        urn = str(answer.decoded_entity_id or "")
        if not urn.startswith("urn:li:"):
            raise ConnectorError("LinkedIn did not return the id of the post")
        return PostedReply(external_id=urn, url=_link(urn))

    def find_post(self, text: str, link: str = "", *, since: datetime) -> PostedReply | None:
        """The organization's own post reading ``text`` among its posts created since ``since``
        (``GET /rest/posts?q=author``, newest created first, one page)."""
        try:
            answer = self._call(
                "finder",
                resource_path="/posts",
                finder_name="author",
                query_params={"author": self.organization, "sortBy": "CREATED", "start": 0, "count": POSTS_PAGE_SIZE},
            )
        finally:
            self.close()
        elements = answer.elements if isinstance(answer.elements, list) else []
        floor = _ms(since)
        posts: list[tuple[str, str]] = []
        reached_floor = False
        for post in elements:
            if not isinstance(post, dict) or not post.get("id"):
                continue
            created = post.get("createdAt") or post.get("publishedAt")
            if isinstance(created, int) and not isinstance(created, bool) and created < floor:
                reached_floor = True
                continue
            if str(post.get("author") or "") == self.organization:
                posts.append((str(post["id"]), plain_text(str(post.get("commentary") or ""))))
        try:
            links = (answer.response.json().get("paging") or {}).get("links") or []
        except (ValueError, AttributeError):
            links = []
        more = any(isinstance(item, dict) and item.get("rel") == "next" for item in links)
        found = own_post_among(
            posts, self.post_text(text, link), truncated=more and not reached_floor, platform="LinkedIn"
        )
        return PostedReply(external_id=found, url=_link(found)) if found else None

    def post_metrics(self, external_ids: list[str]) -> dict[str, dict[str, int]]:
        """Reactions (every kind, not only likes) and comments of each post from the Social Metadata
        API (``GET /rest/socialMetadata/{urn}``: ``socialActions`` counts likes only), then
        impressions and reshares from ``organizationalEntityShareStatistics`` where the token may
        read the organization's statistics (``rw_organization_admin``); without it those two are left out."""
        metrics: dict[str, dict[str, int]] = {}
        try:
            for urn in external_ids:
                try:
                    meta = self._call("get", resource_path="/socialMetadata/{id}", path_keys={"id": urn}).entity
                except ConnectorError as exc:
                    if exc.status == 404:  # deleted since
                        continue
                    raise
                if not isinstance(meta, dict):
                    raise ConnectorError("LinkedIn sent an unexpected payload shape")
                reactions = sum(
                    _count(summary.get("count"))
                    for summary in (meta.get("reactionSummaries") or {}).values()
                    if isinstance(summary, dict)
                )
                comments = _count((meta.get("commentSummary") or {}).get("count"))
                metrics[urn] = {"reactions": reactions, "comments": comments}
            if metrics:
                for urn, counts in self._share_statistics(list(metrics)).items():
                    metrics[urn].update(counts)
        finally:
            self.close()
        return metrics

    def _share_statistics(self, urns: list[str]) -> dict[str, dict[str, int]]:
        shares = [urn for urn in urns if urn.startswith("urn:li:share:")]
        ugc_posts = [urn for urn in urns if urn.startswith("urn:li:ugcPost:")]
        query: dict[str, Any] = {"organizationalEntity": self.organization}
        if shares:
            query["shares"] = shares
        if ugc_posts:
            query["ugcPosts"] = ugc_posts
        if not shares and not ugc_posts:
            return {}
        try:
            answer = self._call(
                "finder",
                resource_path="/organizationalEntityShareStatistics",
                finder_name="organizationalEntity",
                query_params=query,
            )
        except ConnectorError as exc:
            if exc.status == 403:  # not granted the organization's statistics: counts without them
                log.info("LinkedIn channel %s: no access to share statistics", self.channel.pk)
                return {}
            raise
        stats: dict[str, dict[str, int]] = {}
        for row in answer.elements if isinstance(answer.elements, list) else []:
            if not isinstance(row, dict):
                continue
            urn = str(row.get("share") or row.get("ugcPost") or "")
            total = row.get("totalShareStatistics") or {}
            if urn in urns and isinstance(total, dict):
                stats[urn] = {
                    "impressions": _count(total.get("impressionCount")),
                    "shares": _count(total.get("shareCount")),
                }
        return stats


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
