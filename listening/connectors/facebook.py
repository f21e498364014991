"""Facebook Page through facebook-sdk's ``GraphAPI``: feed posts and their comments, visitor posts,
tags, and replies as comments; plus the parser of the Page ``feed`` webhook.

Settings: ``page_id``, ``graph_version`` (e.g. ``v21.0``), ``max_pages`` per edge and poll (default 5),
``lookback_days`` (default 7: comments are read on posts of the last days), ``max_comment_posts``
(default 25: on how many posts a poll reads comments; see below), ``include_own_posts``
(default false: the Page's own posts and comments are the brand's voice, not mentions).
Credentials: ``page_access_token``; for the webhook ``app_secret`` and ``verify_token``.

Cursor: ``{"since": <unix time of the newest item seen>}``. Items at that very second are read again
on the next poll; the ingestion dedupes them. When an edge has more than ``max_pages`` pages, the
cursor also keeps ``resume`` (edge → Graph ``after`` cursor) and ``pending_since``, and the next poll
reads the older pages before the floor moves.

Comments: a post's new comments do not bring it back to the top of the feed, so a poll reads them
on the posts the cursor owes first, then on the conversations that moved lately (the comments
stored on the channel, by polls or webhooks), then on the newest posts, up to ``max_comment_posts``
posts. The posts left over are owed: ``comments_owed`` (post id → the time their unread comments
start at) carries them to the next polls, and the channel shows how many.

Faults: a poll makes one Graph request per post it reads comments on, so one fault among them must
not throw the rest away. A fault while reading comments keeps the posts and the comments of every
post read completely, and owes the post it hit and those not reached (as when time runs out); a
fault while reading the Page's edges keeps the posts read and leaves the cursor where it was. Either
way the fault comes back in ``FetchResult.error`` and the channel backs off as for any failure.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import facebook
import requests
from django.conf import settings

from listening.connectors._http import http_timeout, mount_outbound, safe_url, unique_items
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    AccountPost,
    Connector,
    ConnectorError,
    DeletionCheck,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    Gone,
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

log = logging.getLogger(__name__)

OFFICIAL_HOSTS = ("https://graph.facebook.com",)
DEFAULT_GRAPH_VERSION = "v21.0"
RATE_LIMIT_CODES = {4, 17, 32, 613}
AUTH_CODES = {190, 102, 10, 200}
TRANSIENT_CODES = {1, 2}
DEFAULT_RETRY_AFTER = 15 * 60
PAGE_SIZE = 100
POST_FIELDS = "id,message,created_time,from,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,like_count"
# How long one fetch keeps reading comments, post after post (listening.polling's budget is 30 s
# and the poll task stops at 45 s).
COMMENTS_SECONDS = 20
# Graph's answer for an object that is gone (deleted, hidden from the Page, or its author's account
# closed): code 100, "Object with ID … does not exist, cannot be loaded due to missing permissions",
# subcode 33 (code 100 alone is any invalid parameter).
GONE_CODE = 100
GONE_SUBCODE = 33
# How long one deletion check keeps looking objects up, one request each.
DELETION_SECONDS = 20


def parse_time(value: Any) -> datetime:
    """Graph times are ISO strings like ``2026-11-20T10:00:00+0000``; webhooks send unix seconds."""
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # a time no calendar holds (1e300, NaN)
            return datetime.now(UTC)
    text = str(value or "")
    for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z")):
        try:
            parsed = parse(text)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+14:00" in UTC
            continue
    return datetime.now(UTC)


def _author(person: Any) -> FetchedAuthor:
    person = person if isinstance(person, dict) else {}
    person_id = str(person.get("id") or "")
    return FetchedAuthor(
        external_id=person_id or "unknown",
        name=str(person.get("name") or ""),
        profile_url=f"https://www.facebook.com/{person_id}" if person_id else "",
    )


def _permalink(obj: dict[str, Any], object_id: str) -> str:
    return safe_url(obj.get("permalink_url")) or f"https://www.facebook.com/{object_id}"


def parse_webhook(payload: Any, page_id: str = "", *, include_own: bool = False, source: str = "") -> list[FetchedItem]:
    """FetchedItems from a Page webhook delivery (``entry[].changes[]`` with field ``feed``)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a Page webhook payload")
    items = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            value = change.get("value")
            if not isinstance(value, dict) or value.get("verb") not in ("add", "edited"):
                continue
            item_type = value.get("item")
            sender = value.get("from") if isinstance(value.get("from"), dict) else {}
            if not include_own and page_id and str(sender.get("id") or "") == str(page_id):
                continue
            post_id = str(value.get("post_id") or "")
            if item_type == "comment":
                external_id = str(value.get("comment_id") or "")
                parent = str(value.get("parent_id") or post_id)
                kind = "reply" if parent and parent != post_id else "comment"
            elif item_type in ("post", "status"):
                external_id, parent, kind = post_id, "", "post"
            else:
                continue
            if not external_id:
                continue
            items.append(
                FetchedItem(
                    external_id=external_id,
                    text=str(value.get("message") or ""),
                    author=_author(sender),
                    published_at=parse_time(value.get("created_time") or time.time()),
                    kind=kind,
                    url=f"https://www.facebook.com/{external_id}",
                    parent_external_id=parent,
                    source=source or str(entry.get("id") or page_id),
                    thread_root=post_id if kind != "post" else "",
                )
            )
    return items


def parse_webhook_removals(payload: Any) -> list[str]:
    """The ids of the posts and comments a Page webhook delivery says were removed (``verb: "remove"``
    in ``feed`` changes): https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed"""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a Page webhook payload")
    removed = []
    for entry in payload["entry"]:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            value = change.get("value")
            if not isinstance(value, dict) or value.get("verb") != "remove":
                continue
            item_type = value.get("item")
            if item_type == "comment":
                removed.append(str(value.get("comment_id") or ""))
            elif item_type in ("post", "status", "photo", "video", "share"):
                removed.append(str(value.get("post_id") or ""))
    return [external_id for external_id in dict.fromkeys(removed) if external_id]


class FacebookConnector(Connector):
    platform = "facebook"
    label: ClassVar[str] = "Facebook"  # how errors name the platform (Instagram speaks through Graph too)
    reply_max_length: ClassVar[int] = 8000
    # A Page post's message (https://developers.facebook.com/docs/graph-api/reference/page/feed/).
    post_max_length: ClassVar[int] = 63206
    default_base_url = ""  # blank: facebook-sdk's own host
    settings_fields = (
        SettingField("page_id", required=True, pattern=r"[0-9A-Za-z._-]{1,100}"),
        SettingField("graph_version", pattern=r"v[0-9]{1,2}\.[0-9]"),
        SettingField("page_name"),
        SettingField("lookback_days", int),
        SettingField("max_comment_posts", int),
        SettingField("max_pages", int),
        SettingField("include_own_posts", bool),
    )
    credential_keys = ("page_access_token", "app_secret", "verify_token")
    # The field that hides a comment: https://developers.facebook.com/docs/graph-api/reference/comment/#updating
    hide_field: ClassVar[str] = "is_hidden"
    # Removals come by webhook at once; this lookup, one request per object, catches what a
    # webhook missed (the subscription was off, a delivery failed) in the recent window.
    deletion_recheck_hours = 24
    deletion_batch = 50

    @classmethod
    def deletion_window_days(cls) -> int | None:
        return settings.PLATFORM_DELETION_DAYS

    def _graph(self) -> tuple[facebook.GraphAPI, dict[str, Any]]:
        token = self.credentials.get("page_access_token") or self.credentials.get("access_token")
        if not token:
            raise ConnectorError(f"{self.label} needs a page_access_token credential", reconnect=True)
        session = mount_outbound(requests.Session(), self.base_url, OFFICIAL_HOSTS)
        # The token goes in the Authorization header, never in the URL (where facebook-sdk puts it when
        # given one): URLs end up in logs and error messages. graph.facebook.com takes OAuth 2.0 bearer
        # tokens in the header (RFC 6750 section 2.1), as Meta's WhatsApp Cloud API docs show for it.
        session.headers["Authorization"] = f"Bearer {token}"
        last: dict[str, Any] = {}

        def remember(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            last["response"] = response

        session.hooks["response"].append(remember)
        # facebook-sdk 3.1 only accepts versions up to 3.1 in its constructor; the version is just
        # the first segment of the path it builds, so the current one is set afterwards.
        graph = facebook.GraphAPI(access_token=None, timeout=http_timeout(), version="3.1", session=session)
        version = str(self.settings.get("graph_version") or DEFAULT_GRAPH_VERSION)
        graph.version = version if version.startswith("v") else f"v{version}"
        return graph, last

    def _request(self, graph: facebook.GraphAPI, last: dict[str, Any], path: str, **kwargs: Any) -> Any:
        try:
            result = graph.request(f"{graph.version}/{path}", **kwargs)
        except facebook.GraphAPIError as exc:
            raise self._error(exc, last.get("response")) from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"{self.label} could not be reached: {exc}") from exc
        except (ValueError, KeyError) as exc:
            response = last.get("response")
            status = getattr(response, "status_code", None)
            raise ConnectorError(f"{self.label} sent a malformed payload", status=status) from exc
        if not isinstance(result, dict):
            raise ConnectorError(f"{self.label} sent an unexpected payload")
        return result

    def _error(self, exc: facebook.GraphAPIError, response: requests.Response | None) -> ConnectorError:
        status = getattr(response, "status_code", None)
        code = exc.code
        # A bare 429 (a proxy or Graph's edge, without a Graph error code) is a rate limit all the same.
        if code in RATE_LIMIT_CODES or (isinstance(code, int) and 80001 <= code <= 80014) or status == 429:
            return RateLimited(f"{self.label} rate limit reached: {exc}", retry_after=self._retry_after(response))
        if code in AUTH_CODES or status == 401:
            return ConnectorError(f"{self.label} refused the token: {exc}", reconnect=True, status=status)
        if (status is not None and status >= 500) or code in TRANSIENT_CODES or not isinstance(exc.result, dict):
            return ConnectorError(f"{self.label} server error: {exc}", status=status)
        details = exc.result.get("error")
        if code == GONE_CODE and isinstance(details, dict) and details.get("error_subcode") == GONE_SUBCODE:
            return Gone(f"{self.label} has no such object any more: {exc}", status=status)
        return ConnectorError(f"{self.label} rejected the request: {exc}", permanent=True, status=status)

    @staticmethod
    def _retry_after(response: requests.Response | None) -> float:
        """Minutes to regain access from x-business-use-case-usage when it says, else 15 minutes."""
        if response is None:
            return DEFAULT_RETRY_AFTER
        try:
            usage = json.loads(response.headers.get("x-business-use-case-usage") or "{}")
            waits = [
                int(entry.get("estimated_time_to_regain_access") or 0)
                for entries in usage.values()
                for entry in entries
                if isinstance(entry, dict)
            ]
        except (ValueError, AttributeError, TypeError):
            waits = []
        minutes = max(waits, default=0)
        return minutes * 60 if minutes > 0 else DEFAULT_RETRY_AFTER

    @staticmethod
    def _budget(response: requests.Response | None) -> RateBudget:
        """x-app-usage gives percentages used; the budget left is 100 minus the largest."""
        if response is None:
            return RateBudget()
        try:
            usage = json.loads(response.headers.get("x-app-usage") or "null")
        except ValueError:
            return RateBudget()
        if not isinstance(usage, dict):
            return RateBudget()
        used = [v for v in usage.values() if isinstance(v, int | float)]
        return RateBudget(remaining=max(0, 100 - int(max(used))) if used else None)

    def _edge(
        self, graph: facebook.GraphAPI, last: dict[str, Any], path: str, args: dict[str, Any], after: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """The objects of an edge over at most ``max_pages`` cursor pages, from ``after`` when given.

        Returns the objects and, when pages are left unread, the ``after`` cursor to resume from.
        """
        max_pages = max(int(self.settings.get("max_pages") or 5), 1)
        args = {**args, **({"after": after} if after else {})}
        objects: list[dict[str, Any]] = []
        for _ in range(max_pages):
            result = self._request(graph, last, path, args=dict(args))
            data = result.get("data")
            if not isinstance(data, list):
                raise ConnectorError(f"{self.label} sent an unexpected payload shape")
            objects.extend(obj for obj in data if isinstance(obj, dict) and obj.get("id"))
            paging = result.get("paging") or {}
            next_after = (paging.get("cursors") or {}).get("after")
            if not data or not paging.get("next") or not next_after:
                return objects, ""
            args["after"] = str(next_after)
        return objects, args["after"]

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        page_id = str(self.settings.get("page_id") or "")
        if not page_id:
            raise ConnectorError("Facebook channel needs a page_id setting", permanent=True)
        graph, last = self._graph()
        try:
            return self._fetch(graph, last, cursor, page_id)
        finally:
            graph.session.close()

    def _collect(
        self,
        graph: facebook.GraphAPI,
        last: dict[str, Any],
        page_id: str,
        since: int,
        lookback: timedelta,
        cursor: dict[str, Any],
    ) -> tuple[list[FetchedItem], dict[str, str], dict[str, int], list[RejectedItem], ConnectorError | None, bool]:
        """Items since ``since``; the edges left with unread pages; the posts whose comments are owed;
        the items Graph sent unreadable; the failure that cut the fetch short, if one did; and
        whether the Page's edges were all read (else the cursor must not move).

        A failure while reading comments keeps what was read: the post it hit and the posts not
        reached yet are owed, as when the time for comments runs out."""
        resume = {str(k): str(v) for k, v in (cursor.get("resume") or {}).items() if v}
        floor = datetime.fromtimestamp(since, UTC)
        include_own = bool(self.settings.get("include_own_posts", False))
        source = str(self.settings.get("page_name") or page_id)
        posts_since = int(since - lookback.total_seconds())

        items: list[FetchedItem] = []
        rejected: list[RejectedItem] = []
        truncated: dict[str, str] = {}  # edge path → the after cursor its unread pages start at
        edges: dict[str, list[dict[str, Any]]] = {}
        error: ConnectorError | None = None
        try:
            for edge, edge_since in (("feed", posts_since), ("visitor_posts", since), ("tagged", since)):
                path = f"{page_id}/{edge}"
                edges[edge], more = self._edge(
                    graph,
                    last,
                    path,
                    {"fields": POST_FIELDS, "since": edge_since, "limit": PAGE_SIZE},
                    after=resume.get(path, ""),
                )
                if more:
                    truncated[path] = more
        except ConnectorError as exc:
            error = exc  # the edges read are kept; the cursor stays where it was
        feed, visitor, tagged = edges.get("feed", []), edges.get("visitor_posts", []), edges.get("tagged", [])

        def read_comments(post_id: str, post_since: int) -> None:
            path = f"{post_id}/comments"
            comments, more = self._edge(
                graph,
                last,
                path,
                {
                    "fields": COMMENT_FIELDS,
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "since": post_since,
                    "limit": PAGE_SIZE,
                },
                after=resume.get(path, ""),
            )
            if more:
                truncated[path] = more
            post_floor = datetime.fromtimestamp(post_since, UTC)
            for comment in comments:
                try:
                    own = str((comment.get("from") or {}).get("id") or "") == page_id
                    if own and not include_own:
                        continue
                    if parse_time(comment.get("created_time")) < post_floor:
                        continue
                    parent = str((comment.get("parent") or {}).get("id") or "")
                    kind = "reply" if parent else "comment"
                    items.append(self._item(comment, kind, parent or post_id, source, thread_root=post_id))
                except ITEM_PARSE_ERRORS as exc:
                    rejected.append(unreadable_item("Facebook", comment, exc))

        newest_posts: list[str] = []
        for kind, posts in (("post", feed), ("post", visitor), ("mention", tagged)):
            for post in posts:
                if not isinstance(post, dict) or not post.get("id"):
                    continue
                post_id = str(post["id"])
                try:
                    own = str((post.get("from") or {}).get("id") or "") == page_id
                    if parse_time(post.get("created_time")) >= floor and (include_own or not own):
                        items.append(self._item(post, kind, "", source))
                except ITEM_PARSE_ERRORS as exc:
                    rejected.append(unreadable_item("Facebook", post, exc))
                if kind == "post":  # an unreadable post's comments are read all the same
                    newest_posts.append(post_id)
        if error is not None:
            return items, truncated, {}, rejected, error, False

        # Comments are read one request per post, so a poll reads them on at most max_comment_posts
        # posts. A post's new comments do not move it up the feed: a live conversation on an older
        # post is only known by the comments stored before (a poll or a webhook delivery). So the
        # order is: posts owed from earlier polls (since their own floor, so nothing is skipped),
        # then conversations that moved recently, then the newest posts; the rest are owed.
        order, owed = self.comment_order(
            cursor, newest_posts, window_start=datetime.fromtimestamp(posts_since, UTC), not_before=posts_since
        )
        # Pages left unread by max_pages come first and do not count against the budget.
        resumed = [path.removesuffix("/comments") for path in resume if path.endswith("/comments")]
        comment_budget = max(int(self.settings.get("max_comment_posts") or 25), 0)
        unread = [post_id for post_id in order if post_id not in resumed]
        # A post's comments count as read once all their pages were: a failure on the way leaves it
        # owed, with its unread pages' cursor and its floor, like every post after it.
        still_owed: dict[str, int] = {}
        for index, post_id in enumerate(resumed):
            try:
                read_comments(post_id, owed.get(post_id, since))
            except Gone:
                log.info("Facebook channel %s: post %s is gone, its comments no longer read", self.channel.pk, post_id)
            except ConnectorError as exc:
                error = exc
                for left in resumed[index:]:
                    truncated[f"{left}/comments"] = resume[f"{left}/comments"]
                    still_owed[left] = owed.get(left, since)
                break
            owed.pop(post_id, None)
        # A slow Graph must not carry the poll past its task's time limit (which would read nothing
        # in the end): past COMMENTS_SECONDS the posts not reached yet are owed too.
        deadline = time.monotonic() + COMMENTS_SECONDS
        read = 0
        for post_id in unread[:comment_budget] if error is None else []:
            if time.monotonic() > deadline:
                break
            try:
                read_comments(post_id, owed.get(post_id, since))
            except Gone:  # deleted by its author since its last comment: nothing left to read
                log.info("Facebook channel %s: post %s is gone, its comments no longer read", self.channel.pk, post_id)
            except ConnectorError as exc:
                error = exc
                break
            owed.pop(post_id, None)
            read += 1
        still_owed.update(owe_comments(unread[read:], owed, since))
        return items, truncated, still_owed, rejected, error, True

    def _fetch(
        self, graph: facebook.GraphAPI, last: dict[str, Any], cursor: dict[str, Any], page_id: str
    ) -> FetchResult:
        lookback = timedelta(days=int(self.settings.get("lookback_days") or 7))
        since = int(cursor.get("since") or (datetime.now(UTC) - lookback).timestamp())
        try:
            items, truncated, owed, rejected, error, edges_read = self._collect(
                graph, last, page_id, since, lookback, cursor
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConnectorError(f"Facebook sent a malformed item: {exc}") from exc
        if error is not None and not edges_read:
            if not items:
                raise error
            # The posts read so far are stored; the next poll reads the same from the same cursor.
            return FetchResult(
                items=unique_items(items),
                cursor=dict(cursor),
                budget=self._budget(last.get("response")),
                rejected=rejected,
                error=error,
            )
        newest = max((int(item.published_at.timestamp()) for item in items), default=since)
        newest = max(newest, int(cursor.get("pending_since") or since), since)
        rest = {k: v for k, v in cursor.items() if k not in ("since", "resume", "pending_since", "comments_owed")}
        if owed:
            log.info("Facebook channel %s: comments on %s posts owed to the next polls", self.channel.pk, len(owed))
            rest["comments_owed"] = owed
        if truncated:
            # Graph pages run newest first under a time floor: the unread pages are older than what
            # was read. The floor stays put and the next poll (soon: has_more) resumes each edge
            # from its after cursor; the newest time seen waits in pending_since until then.
            log.info("Facebook channel %s: resuming %s on the next poll", self.channel.pk, ", ".join(truncated))
            return FetchResult(
                items=unique_items(items),
                cursor={**rest, "since": since, "resume": truncated, "pending_since": newest},
                budget=self._budget(last.get("response")),
                has_more=True,
                deferred=len(owed),
                rejected=rejected,
                error=error,
            )
        return FetchResult(
            items=unique_items(items),
            cursor={**rest, "since": newest},
            budget=self._budget(last.get("response")),
            deferred=len(owed),
            rejected=rejected,
            error=error,
        )

    @staticmethod
    def _item(obj: dict[str, Any], kind: str, parent: str, source: str, *, thread_root: str = "") -> FetchedItem:
        object_id = str(obj["id"])
        metrics = {"likes": int(obj["like_count"])} if isinstance(obj.get("like_count"), int) else {}
        return FetchedItem(
            external_id=object_id,
            text=str(obj.get("message") or ""),
            author=_author(obj.get("from")),
            published_at=parse_time(obj.get("created_time")),
            kind=kind,
            url=_permalink(obj, object_id),
            parent_external_id=parent,
            source=source,
            thread_root=thread_root,
            metrics=metrics,
        )

    def check_deleted(self, external_ids: list[str], state: dict[str, Any]) -> DeletionCheck:
        """Each object looked up by id (``GET /{id}?fields=id``); Graph's code 100 says it is gone.
        One id that is gone fails a whole ``?ids=`` request, so they are asked one at a time, for at
        most ``DELETION_SECONDS``; the ids not reached are asked on the next run."""
        graph, last = self._graph()
        gone: set[str] = set()
        checked: set[str] = set()
        deadline = time.monotonic() + DELETION_SECONDS
        try:
            for external_id in external_ids:
                if time.monotonic() > deadline:
                    break
                try:
                    graph.request(f"{graph.version}/{external_id}", args={"fields": "id"})
                except facebook.GraphAPIError as exc:
                    if exc.code != GONE_CODE:
                        raise self._error(exc, last.get("response")) from exc
                    gone.add(external_id)
                except requests.RequestException as exc:
                    raise ConnectorError(f"{self.label} could not be reached: {exc}") from exc
                except (ValueError, KeyError) as exc:
                    raise ConnectorError(f"{self.label} sent a malformed payload") from exc
                checked.add(external_id)
        finally:
            graph.session.close()
        return DeletionCheck(
            gone=frozenset(gone), checked=frozenset(checked), budget=self._budget(last.get("response"))
        )

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        graph, last = self._graph()
        try:
            result = self._request(graph, last, f"{parent_external_id}/comments", post_args={"message": text})
        finally:
            graph.session.close()
        comment_id = str(result.get("id") or "")
        if not comment_id:
            raise ConnectorError("Facebook did not return the id of the reply")
        return PostedReply(external_id=comment_id, url=f"https://www.facebook.com/{comment_id}")

    def hide_comment(self, external_id: str, hidden: bool) -> None:
        """``POST /{comment-id}`` with the hide field: the comment stays, seen by its author only."""
        self._moderate(external_id, post_args={self.hide_field: "true" if hidden else "false"})

    def delete_comment(self, external_id: str) -> None:
        """``DELETE /{comment-id}``."""
        self._moderate(external_id, method="DELETE")

    def _moderate(self, external_id: str, **kwargs: Any) -> None:
        graph, last = self._graph()
        try:
            result = self._request(graph, last, str(external_id), **kwargs)
        finally:
            graph.session.close()
        if result.get("success") is not True:
            raise ConnectorError(f"{self.label} did not confirm the change to the comment")

    def find_reply(self, parent_external_id: str, text: str, *, since: datetime) -> PostedReply | None:
        """The item's comments since ``since``, read back for the Page's own answer
        (https://developers.facebook.com/docs/graph-api/reference/object/comments/)."""
        page_id = str(self.settings.get("page_id") or "")
        graph, last = self._graph()
        try:
            result = self._request(
                graph,
                last,
                f"{parent_external_id}/comments",
                args={
                    "fields": "id,message,from,created_time",
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "since": str(int(since.timestamp())),
                    "limit": "100",
                },
            )
        finally:
            graph.session.close()
        answers = [
            (str(comment.get("id") or ""), str(comment.get("message") or ""))
            for comment in result.get("data") or []
            if isinstance(comment, dict) and str((comment.get("from") or {}).get("id") or "") == page_id
        ]
        truncated = bool((result.get("paging") or {}).get("next"))
        found = brands_reply_among(answers, text, truncated=truncated, platform="Facebook")
        return PostedReply(external_id=found, url=f"https://www.facebook.com/{found}") if found else None

    # --- publishing ---------------------------------------------------------------------------
    @classmethod
    def post_text(cls, text: str, link: str) -> str:
        return text  # the link travels in the feed's own ``link`` field and shows as a preview

    def _page_id(self) -> str:
        page_id = str(self.settings.get("page_id") or "")
        if not page_id:
            raise ConnectorError(f"{self.label} channel needs a page_id setting", permanent=True)
        return page_id

    def publish_post(self, text: str, link: str = "") -> PostedReply:
        """A post on the Page's ``feed`` (https://developers.facebook.com/docs/graph-api/reference/page/feed/#publish).

        The request ``GraphAPI.put_object(page_id, "feed", ...)`` makes, through ``request``:
        ``put_object`` asserts a token held by the client object, and this connector keeps the token
        in the Authorization header only (see ``_graph``).
        """
        page_id = self._page_id()
        graph, last = self._graph()
        fields = {"message": text, **({"link": link} if link else {})}
        try:
            result = self._request(graph, last, f"{page_id}/feed", post_args=fields)
        finally:
            graph.session.close()
        post_id = str(result.get("id") or "")
        if not post_id:
            raise ConnectorError(f"{self.label} did not return the id of the post")
        return PostedReply(external_id=post_id, url=f"https://www.facebook.com/{post_id}")

    def find_post(self, text: str, link: str = "", *, since: datetime) -> PostedReply | None:
        """The Page's own feed since ``since``, read back for this post."""
        page_id = self._page_id()
        graph, last = self._graph()
        try:
            result = self._request(
                graph,
                last,
                f"{page_id}/feed",
                args={"fields": "id,message,from,created_time", "since": str(int(since.timestamp())), "limit": "100"},
            )
        finally:
            graph.session.close()
        posts = [
            (str(post.get("id") or ""), str(post.get("message") or ""))
            for post in result.get("data") or []
            if isinstance(post, dict) and str((post.get("from") or {}).get("id") or "") == page_id
        ]
        truncated = bool((result.get("paging") or {}).get("next"))
        found = own_post_among(posts, text, truncated=truncated, platform=self.label)
        return PostedReply(external_id=found, url=f"https://www.facebook.com/{found}") if found else None

    def post_metrics(self, external_ids: list[str]) -> dict[str, dict[str, int]]:
        """Reactions, comments and shares of the Page's posts, as summaries (no list of people):
        https://developers.facebook.com/docs/graph-api/reference/post/reactions/, one call per 50 ids.

        A post deleted since fails its whole ``?ids=`` request, so that request is asked again one
        id at a time, and the ids that are gone are left out (as a gone post is)."""
        metrics: dict[str, dict[str, int]] = {}
        graph, last = self._graph()

        def read(ids: list[str]) -> None:
            result = self._request(graph, last, "", args={"ids": ",".join(ids), "fields": SUMMARY_FIELDS})
            for post_id, post in result.items():
                if isinstance(post, dict):
                    metrics[str(post_id)] = _summary_counts(post)

        try:
            for start in range(0, len(external_ids), 50):
                chunk = external_ids[start : start + 50]
                try:
                    read(chunk)
                except Gone:
                    for external_id in chunk if len(chunk) > 1 else []:
                        with contextlib.suppress(Gone):
                            read([external_id])
        finally:
            graph.session.close()
        return metrics

    # --- other accounts -----------------------------------------------------------------------
    def account_posts(self, account: str, *, since: datetime) -> list[AccountPost]:
        """A public Page's own posts since ``since`` with their reactions, comments and shares as
        summaries (https://developers.facebook.com/docs/graph-api/reference/page/feed/: the
        ``posts`` edge), read with this Page's token."""
        page = account.strip().lstrip("@")
        graph, last = self._graph()
        try:
            posts, _ = self._edge(
                graph,
                last,
                f"{page}/posts",
                {"fields": f"id,created_time,{SUMMARY_FIELDS}", "since": int(since.timestamp()), "limit": PAGE_SIZE},
            )
        finally:
            graph.session.close()
        try:
            return [
                AccountPost(
                    external_id=str(post["id"]),
                    published_at=parse_time(post.get("created_time")),
                    metrics=_summary_counts(post),
                )
                for post in posts
            ]
        except ITEM_PARSE_ERRORS as exc:
            raise ConnectorError(f"{self.label} sent a malformed post: {exc}") from exc


# The counts a post's summaries give, without the list of people behind them.
SUMMARY_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"


def _summary_counts(post: dict[str, Any]) -> dict[str, int]:
    counts = {
        "reactions": ((post.get("reactions") or {}).get("summary") or {}).get("total_count"),
        "comments": ((post.get("comments") or {}).get("summary") or {}).get("total_count"),
        "shares": (post.get("shares") or {}).get("count", 0),
    }
    return {key: int(value) for key, value in counts.items() if isinstance(value, int)}
