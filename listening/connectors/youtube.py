"""YouTube Data API v3 through google-api-python-client: comment threads on the brand's channel.

Settings: ``channel_id`` (allThreadsRelatedToChannelId) or ``video_id``, optional ``search_terms``
(searchTerms, narrows the threads), ``max_pages`` per poll (default 5).
Credentials: ``api_key`` to read. To reply, OAuth 2.0 of the channel owner: ``client_id``,
``client_secret`` and ``refresh_token`` (refreshed at the token endpoint: ``<api_base_url>/token``
when a base URL is set, else Google's), or a ready ``access_token``.

Each comment carries its video's title (``source_title``), read with one ``videos.list`` call per
50 videos of the poll (1 quota unit each).

Cursor: ``{"newest": <ISO time of the newest comment seen>}``; threads come newest first and paging
stops at the first thread older than that. An unfinished sweep keeps ``page_token`` and
``pending_newest`` and resumes on the next poll; so does one cut short by a fault (a 429, a 5xx, a
timeout, malformed JSON, a key revoked mid-poll): the pages read before it are kept
(``FetchResult.error``) and the next poll starts at the page that failed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import Error as GoogleApiError
from googleapiclient.errors import HttpError

from listening.connectors._http import OutboundHttp, safe_url
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    Connector,
    ConnectorError,
    DeletionCheck,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    PostedReply,
    RateLimited,
    RejectedItem,
    SettingField,
    unreadable_item,
)

MAX_REPLY_PAGES = 5  # of 100 replies each, per thread and poll
VIDEOS_PER_CALL = 50  # videos.list's limit of ids per request
COMMENTS_PER_CALL = 50  # comments.list's limit of ids per request
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
SHORT_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
AUTH_REASONS = {
    "keyInvalid",
    "keyExpired",
    "forbidden",
    "authError",
    "invalidCredentials",
    "insufficientPermissions",
    "API_KEY_INVALID",
    "API_KEY_EXPIRED",
}
PACIFIC = ZoneInfo("America/Los_Angeles")


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """YouTube's daily quota resets at midnight Pacific time."""
    now = (now or datetime.now(UTC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return (midnight - now).total_seconds()


def _parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return datetime.now(UTC)


class YouTubeConnector(Connector):
    platform = "youtube"
    reply_max_length: ClassVar[int] = 10000
    default_base_url = "https://youtube.googleapis.com"
    settings_fields = (
        SettingField("channel_id", pattern=r"[0-9A-Za-z_-]{1,64}"),
        SettingField("video_id", pattern=r"[0-9A-Za-z_-]{1,64}"),
        SettingField("search_terms"),
        SettingField("max_pages", int),
    )
    settings_need_one_of = ("channel_id", "video_id")
    credential_keys = ("api_key", "client_id", "client_secret", "refresh_token", "access_token")
    # YouTube's API policies (III.E.4): API data is kept at most 30 days unless refreshed. Every
    # stored comment is asked about again 20 days after it was stored or last found, 50 ids to a
    # quota unit (https://developers.google.com/youtube/v3/docs/comments/list): one that does not
    # come back was deleted, or hidden by its author or the video's owner.
    deletion_recheck_hours = 20 * 24
    deletion_batch = 1000

    def _service(self, http: Any) -> Any:
        return build(
            "youtube",
            "v3",
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.base_url + "/"},
            http=http,
        )

    def _execute(self, request: Any) -> dict[str, Any]:
        try:
            result = request.execute(num_retries=0)
        except HttpError as exc:
            raise self._error(exc) from exc
        except google.auth.exceptions.RefreshError as exc:
            raise ConnectorError(f"YouTube refused the OAuth credentials: {exc}", reconnect=True) from exc
        except (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError) as exc:
            raise ConnectorError(f"YouTube could not be reached: {exc}") from exc
        except (ValueError, GoogleApiError) as exc:
            raise ConnectorError(f"YouTube sent a malformed payload: {exc}") from exc
        if not isinstance(result, dict):
            raise ConnectorError("YouTube sent an unexpected payload")
        return result

    @staticmethod
    def _error(exc: HttpError) -> ConnectorError:
        status = int(exc.resp.status)
        reasons: set[str] = set()
        domains: set[str] = set()
        try:
            error = json.loads(exc.content).get("error") or {}
            for detail in [*(error.get("errors") or []), *(error.get("details") or [])]:
                reasons.add(str(detail.get("reason") or ""))
                domains.add(str(detail.get("domain") or ""))
            reasons.discard("")
        except (ValueError, AttributeError, TypeError):
            pass
        if reasons & QUOTA_REASONS or "youtube.quota" in domains:
            return RateLimited("YouTube daily quota exceeded", retry_after=seconds_until_quota_reset())
        if status == 429 or reasons & SHORT_RATE_REASONS:
            return RateLimited("YouTube rate limit reached", retry_after=60)
        if status == 401 or reasons & AUTH_REASONS or (status == 403 and not reasons):
            return ConnectorError(
                f"YouTube refused the credentials ({', '.join(sorted(reasons)) or status})",
                reconnect=True,
                status=status,
            )
        if status >= 500:
            return ConnectorError(f"YouTube server error {status}", status=status)
        return ConnectorError(
            f"YouTube rejected the request ({', '.join(sorted(reasons)) or status})", permanent=True, status=status
        )

    # --- reading ------------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        api_key = self.credentials.get("api_key")
        if not api_key:
            raise ConnectorError("YouTube needs an api_key credential", reconnect=True)
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "maxResults": 100,
            "order": "time",
            "textFormat": "plainText",
        }
        if self.settings.get("channel_id"):
            params["allThreadsRelatedToChannelId"] = self.settings["channel_id"]
        elif self.settings.get("video_id"):
            params["videoId"] = self.settings["video_id"]
        else:
            raise ConnectorError("YouTube channel needs a channel_id or video_id setting", permanent=True)
        if self.settings.get("search_terms"):
            params["searchTerms"] = self.settings["search_terms"]

        # The key goes in a header instead of the ``key=`` query parameter the client library would use,
        # so it is never part of a URL: https://cloud.google.com/apis/docs/system-parameters
        service = self._service(OutboundHttp(headers={"X-Goog-Api-Key": api_key}))
        try:
            result = self._fetch(service, params, cursor)
            return replace(result, items=self._titled(service, result.items))
        finally:
            service.close()

    def _fetch(self, service: Any, params: dict[str, Any], cursor: dict[str, Any]) -> FetchResult:
        floor = _parse_time(cursor["newest"]) if cursor.get("newest") else None
        token = cursor.get("page_token")
        newest = _parse_time(cursor["pending_newest"]) if token and cursor.get("pending_newest") else None
        items: list[FetchedItem] = []
        rejected: list[RejectedItem] = []
        reached_floor = False
        error: ConnectorError | None = None
        for _ in range(max(int(self.settings.get("max_pages") or 5), 1)):
            # A page counts once it and its threads' replies are all read: a fault on the way keeps
            # the pages before it and resumes at this one (``page_token``) with the floor unmoved.
            page_items: list[FetchedItem] = []
            page_rejected: list[RejectedItem] = []
            page_newest = newest
            try:
                page_params = {**params, **({"pageToken": token} if token else {})}
                result = self._execute(service.commentThreads().list(**page_params))
                threads = result.get("items")
                if not isinstance(threads, list):
                    raise ConnectorError("YouTube sent an unexpected payload shape")
                for thread in threads:
                    if not isinstance(thread, dict):
                        continue
                    try:
                        thread_items = self._thread_items(thread, page_rejected)
                    except ITEM_PARSE_ERRORS as exc:  # not even its comment's id and video could be read
                        page_rejected.append(unreadable_item("YouTube", thread, exc))
                        continue
                    thread_items = self._with_all_replies(service, thread, thread_items, page_rejected)
                    for item in thread_items:
                        if floor is None or item.published_at >= floor:
                            page_items.append(item)
                            page_newest = max(page_newest, item.published_at) if page_newest else item.published_at
                    top = next((item for item in thread_items if item.kind == "comment"), None)
                    if floor is not None and top is not None and top.published_at < floor:
                        reached_floor = True
            except ConnectorError as exc:
                if not token:  # the sweep's first page: nothing read, the cursor stays as it was
                    raise
                error = exc
                break
            items.extend(page_items)
            rejected.extend(page_rejected)
            newest = page_newest
            token = result.get("nextPageToken")
            if not token or reached_floor:
                token = None
                break
        if token:
            new_cursor = {"newest": floor.isoformat() if floor else None, "page_token": token}
            if newest:
                new_cursor["pending_newest"] = newest.isoformat()
            return FetchResult(items=items, cursor=new_cursor, has_more=True, rejected=rejected, error=error)
        best = max(filter(None, (newest, floor)), default=None)
        return FetchResult(items=items, cursor={"newest": best.isoformat()} if best else {}, rejected=rejected)

    def _titled(self, service: Any, items: list[FetchedItem]) -> list[FetchedItem]:
        """Each comment with its video's title, so reports name the video (``videos.list``, 50 ids
        and 1 quota unit a call: https://developers.google.com/youtube/v3/docs/videos/list). A
        title is a courtesy: when it cannot be read the comments are stored without it."""
        ids = sorted({item.source for item in items if item.source})
        titles: dict[str, str] = {}
        for start in range(0, len(ids), VIDEOS_PER_CALL):
            chunk = ids[start : start + VIDEOS_PER_CALL]
            try:
                result = self._execute(
                    service.videos().list(part="snippet", id=",".join(chunk), maxResults=VIDEOS_PER_CALL)
                )
            except ConnectorError:
                break
            for video in result.get("items") or []:
                snippet = video.get("snippet") if isinstance(video, dict) else None
                if isinstance(snippet, dict) and isinstance(snippet.get("title"), str):
                    titles[str(video.get("id"))] = snippet["title"]
        return [replace(item, source_title=titles[item.source]) if item.source in titles else item for item in items]

    def _thread_items(self, thread: Any, rejected: list[RejectedItem]) -> list[FetchedItem]:
        """The thread's comment and its inlined replies; an unreadable reply is set aside on its own."""
        if not isinstance(thread, dict):
            return []
        snippet = thread.get("snippet") or {}
        video_id = str(snippet.get("videoId") or "")
        top = snippet.get("topLevelComment") or {}
        items = []
        if top.get("id"):
            try:
                item = self._comment(top, video_id, kind="comment", parent="")
            except ITEM_PARSE_ERRORS as exc:  # its replies are read all the same
                rejected.append(unreadable_item("YouTube", top, exc))
            else:
                reply_count = snippet.get("totalReplyCount")
                if isinstance(reply_count, int):
                    item.metrics["replies"] = reply_count
                items.append(item)
        for reply in (thread.get("replies") or {}).get("comments") or []:
            if isinstance(reply, dict) and reply.get("id"):
                try:
                    parent = str((reply.get("snippet") or {}).get("parentId") or top.get("id") or "")
                    items.append(self._comment(reply, video_id, kind="reply", parent=parent))
                except ITEM_PARSE_ERRORS as exc:
                    rejected.append(unreadable_item("YouTube", reply, exc))
        return items

    def _with_all_replies(
        self, service: Any, thread: dict[str, Any], items: list[FetchedItem], rejected: list[RejectedItem]
    ) -> list[FetchedItem]:
        """A thread inlines at most 5 replies; the rest are read with ``comments.list?parentId=``.

        https://developers.google.com/youtube/v3/docs/commentThreads#replies
        """
        snippet = thread.get("snippet") or {}
        top = snippet.get("topLevelComment") or {}
        total = snippet.get("totalReplyCount")
        inlined = len((thread.get("replies") or {}).get("comments") or [])
        if not top.get("id") or not isinstance(total, int) or total <= inlined:
            return items
        video_id = str(snippet.get("videoId") or "")
        replies: list[FetchedItem] = []
        token = None
        for _ in range(MAX_REPLY_PAGES):
            params = {"part": "snippet", "parentId": top["id"], "maxResults": 100, "textFormat": "plainText"}
            result = self._execute(service.comments().list(**params, **({"pageToken": token} if token else {})))
            for reply in result.get("items") or []:
                if isinstance(reply, dict) and reply.get("id"):
                    try:
                        replies.append(self._comment(reply, video_id, kind="reply", parent=str(top["id"])))
                    except ITEM_PARSE_ERRORS as exc:
                        rejected.append(unreadable_item("YouTube", reply, exc))
            token = result.get("nextPageToken")
            if not token:
                break
        known = {item.external_id for item in items}
        return items + [reply for reply in replies if reply.external_id not in known]

    @staticmethod
    def _comment(comment: dict[str, Any], video_id: str, *, kind: str, parent: str) -> FetchedItem:
        snippet = comment.get("snippet") or {}
        video_id = str(snippet.get("videoId") or video_id)
        name = str(snippet.get("authorDisplayName") or "")
        comment_id = str(comment["id"])
        url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else ""
        likes = snippet.get("likeCount")
        return FetchedItem(
            external_id=comment_id,
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            author=FetchedAuthor(
                external_id=str((snippet.get("authorChannelId") or {}).get("value") or name or "unknown"),
                handle=name.removeprefix("@") if name.startswith("@") else "",
                name=name,
                profile_url=safe_url(snippet.get("authorChannelUrl")),
                avatar_url=safe_url(snippet.get("authorProfileImageUrl")),
            ),
            published_at=_parse_time(snippet.get("publishedAt")),
            kind=kind,
            url=url,
            parent_external_id=parent,
            source=video_id,
            metrics={"likes": likes} if isinstance(likes, int) else {},
        )

    # --- platform deletions ---------------------------------------------------------------------
    def check_deleted(self, external_ids: list[str], state: dict[str, Any]) -> DeletionCheck:
        """``comments.list?id=`` over ``external_ids``, 50 a call: the ids it does not return are gone."""
        api_key = self.credentials.get("api_key")
        if not api_key:
            raise ConnectorError("YouTube needs an api_key credential", reconnect=True)
        service = self._service(OutboundHttp(headers={"X-Goog-Api-Key": api_key}))
        found: set[str] = set()
        try:
            for start in range(0, len(external_ids), COMMENTS_PER_CALL):
                chunk = external_ids[start : start + COMMENTS_PER_CALL]
                # maxResults is not taken with id: the answer holds every id found.
                result = self._execute(service.comments().list(part="id", id=",".join(chunk)))
                items = result.get("items")
                if not isinstance(items, list):
                    raise ConnectorError("YouTube sent an unexpected payload shape")
                found |= {str(item.get("id")) for item in items if isinstance(item, dict) and item.get("id")}
        finally:
            service.close()
        asked = frozenset(external_ids)
        return DeletionCheck(gone=asked - found, checked=asked)

    # --- replying -----------------------------------------------------------------------------
    def _oauth_http(self) -> Any:
        creds = self.credentials
        if creds.get("refresh_token") and creds.get("client_id") and creds.get("client_secret"):
            token_uri = (
                f"{self.channel.api_base_url.rstrip('/')}/token" if self.channel.api_base_url else GOOGLE_TOKEN_URI
            )
            oauth = Credentials(
                token=None,
                refresh_token=creds["refresh_token"],
                client_id=creds["client_id"],
                client_secret=creds["client_secret"],
                token_uri=token_uri,
            )
        elif creds.get("access_token"):
            oauth = Credentials(token=creds["access_token"])
        else:
            raise ConnectorError(
                "YouTube replies need OAuth credentials (client_id, client_secret, refresh_token)", reconnect=True
            )
        # The OAuth access token goes in the Authorization header; the refresh goes through the same policy.
        return google_auth_httplib2.AuthorizedHttp(oauth, http=OutboundHttp())

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        service = self._service(self._oauth_http())
        body = {"snippet": {"parentId": parent_external_id, "textOriginal": text}}
        try:
            result = self._execute(service.comments().insert(part="snippet", body=body))
        finally:
            service.close()
        comment_id = str(result.get("id") or "")
        if not comment_id:
            raise ConnectorError("YouTube did not return the id of the reply")
        video_id = str((result.get("snippet") or {}).get("videoId") or "")
        url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else ""
        return PostedReply(external_id=comment_id, url=url)
