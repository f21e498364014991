"""X (Twitter) API v2 through tweepy: the brand's mentions timeline and a recent search.

Settings: ``user_id`` (the brand account, for mentions and to drop its own posts), ``search_query``
(recent search, optional), ``include_retweets`` (default false), ``include_own_posts`` (default false),
``max_pages`` per endpoint and poll (default 5).
Credentials: ``bearer_token`` to read; ``consumer_key``, ``consumer_secret``, ``access_token``,
``access_token_secret`` (OAuth 1.0a user context of the brand account) to reply.

Cursor, one entry per endpoint: ``{"mentions": {"since_id": …}, "search": {"since_id": …}}``. While
a sweep of pages is unfinished the entry also holds ``next_token`` and ``newest_id``: the next poll
resumes the same sweep, and only when it is done does ``since_id`` move to the newest id seen, so a
rate limit or a crash in the middle never skips a page. A fault after some pages (a 429, a 5xx, a
timeout, malformed JSON, a token revoked mid-poll) keeps the pages read: they are stored with an
entry that resumes at the page that failed (``FetchResult.error``).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
import tweepy
from django.conf import settings
from twitter_text import parse_tweet

from listening.connectors._http import mount_outbound, safe_url, unique_items
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    AccountPost,
    Connector,
    ConnectorError,
    DeletionCheck,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    PostedReply,
    RateBudget,
    RateLimited,
    RejectedItem,
    SettingField,
    brands_reply_among,
    own_post_among,
    unreadable_item,
)

OFFICIAL_HOSTS = ("https://api.twitter.com", "https://api.x.com")
LEADING_HANDLES = re.compile(r"^\s*(?:@\w{1,15}\s+)+")
EXPANSIONS = ["author_id", "referenced_tweets.id"]
USER_FIELDS = ["public_metrics", "verified", "username", "name", "profile_image_url"]
TWEET_FIELDS = ["created_at", "lang", "public_metrics", "referenced_tweets", "conversation_id", "author_id"]
DEFAULT_RETRY_AFTER = 15 * 60
# Where X keeps a compliance job's files: signed URLs on Google Cloud Storage. A channel with its
# own API base URL (a gateway, the sandbox) reaches them there too.
COMPLIANCE_STORAGE_HOSTS = ("https://storage.googleapis.com",)
# A job's results list an id with "action": "delete" when the post was deleted, or its author's
# account was suspended, deactivated or made protected: X's terms ask for the post to go in each case.
# https://docs.x.com/x-api/compliance/batch-compliance/introduction
COMPLIANCE_PENDING = ("created", "in_progress")


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _int_metrics(metrics: Any) -> dict[str, int]:
    if not isinstance(metrics, dict):
        return {}
    return {str(k): int(v) for k, v in metrics.items() if isinstance(v, int) and not isinstance(v, bool)}


class XConnector(Connector):
    platform = "x"
    reply_max_length: ClassVar[int] = 280
    post_max_length: ClassVar[int] = 280
    default_base_url = ""  # blank: tweepy's own host
    settings_fields = (
        SettingField("user_id", pattern=r"[0-9]{1,30}"),
        SettingField("search_query"),
        SettingField("include_retweets", bool),
        SettingField("include_own_posts", bool),
        SettingField("max_pages", int),
    )
    settings_need_one_of = ("user_id", "search_query")
    credential_keys = ("bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret")
    # Batch compliance: the posts stored in the last PLATFORM_DELETION_DAYS are uploaded once a
    # day in one job (X runs one job at a time per app; a job takes up to 100 million ids).
    deletion_recheck_hours = 24
    deletion_batch = 100_000

    @classmethod
    def deletion_window_days(cls) -> int | None:
        return settings.PLATFORM_DELETION_DAYS

    # --- clients -------------------------------------------------------------------------------
    def _client(self, *, user_auth: bool = False) -> tweepy.Client:
        creds = self.credentials
        if user_auth:
            missing = [
                key
                for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
                if not creds.get(key)
            ]
            if missing:
                raise ConnectorError(f"X replies need the credentials {', '.join(missing)}", reconnect=True)
            client = tweepy.Client(
                consumer_key=creds["consumer_key"],
                consumer_secret=creds["consumer_secret"],
                access_token=creds["access_token"],
                access_token_secret=creds["access_token_secret"],
                return_type=requests.Response,
                wait_on_rate_limit=False,
            )
        else:
            if not creds.get("bearer_token"):
                raise ConnectorError("X needs a bearer_token credential", reconnect=True)
            client = tweepy.Client(
                bearer_token=creds["bearer_token"], return_type=requests.Response, wait_on_rate_limit=False
            )
        # The bearer token and the OAuth 1.0a signature travel in the Authorization header.
        mount_outbound(client.session, self.base_url, OFFICIAL_HOSTS)
        return client

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], RateBudget]:
        """One API call: the decoded JSON and the rate budget, or one of the contract's errors."""
        try:
            response = method(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            reset = exc.reset_time
            retry_after = (reset - time.time()) if reset else DEFAULT_RETRY_AFTER
            raise RateLimited(f"X rate limit reached: {exc}", retry_after=retry_after) from exc
        except tweepy.Unauthorized as exc:
            raise ConnectorError(f"X refused the credentials: {exc}", reconnect=True, status=401) from exc
        except tweepy.Forbidden as exc:
            text = " ".join(exc.api_messages).lower()
            if "duplicate" in text:
                raise ConnectorError(f"X refused the post: {exc}", permanent=True, status=403) from exc
            raise ConnectorError(f"X forbids this with these credentials: {exc}", reconnect=True, status=403) from exc
        except (tweepy.BadRequest, tweepy.NotFound) as exc:
            raise ConnectorError(
                f"X rejected the request: {exc}", permanent=True, status=exc.response.status_code
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise ConnectorError(f"X server error: {exc}", status=exc.response.status_code) from exc
        except tweepy.HTTPException as exc:
            raise ConnectorError(f"X answered unexpectedly: {exc}", status=exc.response.status_code) from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"X could not be reached: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ConnectorError("X sent a malformed JSON payload", status=response.status_code) from exc
        if not isinstance(body, dict):
            raise ConnectorError("X sent an unexpected payload", status=response.status_code)
        return body, self._budget(response)

    @staticmethod
    def _budget(response: requests.Response) -> RateBudget:
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = response.headers.get("x-rate-limit-reset")
        try:
            return RateBudget(
                remaining=int(remaining) if remaining is not None else None,
                reset_at=datetime.fromtimestamp(int(reset), UTC) if reset else None,
            )
        except ValueError:
            return RateBudget()

    # --- reading ------------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        client = self._client()
        try:
            return self._fetch(client, cursor)
        finally:
            client.session.close()

    def _fetch(self, client: tweepy.Client, cursor: dict[str, Any]) -> FetchResult:
        user_id = str(self.settings.get("user_id") or "")
        query = str(self.settings.get("search_query") or "").strip()
        if not user_id and not query:
            raise ConnectorError("X channel needs a user_id or a search_query setting", permanent=True)
        endpoints: list[tuple[str, Any, tuple, str]] = []
        if user_id:
            endpoints.append(("mentions", client.get_users_mentions, (user_id,), "pagination_token"))
        if query:
            endpoints.append(("search", client.search_recent_tweets, (query,), "next_token"))

        items: list[FetchedItem] = []
        new_cursor = dict(cursor or {})
        budgets: list[RateBudget] = []
        rejected: list[RejectedItem] = []
        has_more = False
        error: ConnectorError | None = None
        for name, method, args, token_param in endpoints:
            state, more, error = self._sweep(
                name, method, args, token_param, dict(new_cursor.get(name) or {}), items, budgets, rejected
            )
            new_cursor[name] = state
            has_more = has_more or more
            if error is not None:
                if not budgets:  # no page answered: nothing to keep
                    raise error
                break  # the pages read are kept; the rest waits for the next poll
        return FetchResult(
            items=unique_items(items),
            cursor=new_cursor,
            budget=self._lowest(budgets),
            has_more=has_more,
            rejected=rejected,
            error=error,
        )

    def _sweep(
        self,
        name: str,
        method: Any,
        args: tuple,
        token_param: str,
        state: dict[str, Any],
        items: list[FetchedItem],
        budgets: list[RateBudget],
        rejected: list[RejectedItem],
    ) -> tuple[dict[str, Any], bool, ConnectorError | None]:
        """Read one endpoint's pages from its cursor entry ``state``; (its new entry, more pages
        waiting, the fault that stopped it). A fault after some pages keeps them: the entry resumes
        the sweep at the page that failed, its floor unmoved, so the next poll stores the rest once."""
        since_id = state.get("since_id")
        token = state.get("next_token")
        newest = state.get("newest_id") if token else None
        max_pages = max(int(self.settings.get("max_pages") or 5), 1)
        for _ in range(max_pages):
            params: dict[str, Any] = {
                "expansions": EXPANSIONS,
                "user_fields": USER_FIELDS,
                "tweet_fields": TWEET_FIELDS,
                "max_results": 100,
            }
            if since_id:
                params["since_id"] = since_id
            if token:
                params[token_param] = token
            try:
                body, budget = self._call(method, *args, **params)
            except ConnectorError as exc:
                # Recent search only reaches back 7 days and refuses an older since_id: after a long
                # pause the sweep starts over from what search still holds instead of failing for good.
                if name == "search" and exc.status == 400 and since_id and "since_id" in str(exc):
                    since_id, token, newest = None, None, None
                    continue
                if not token:  # the sweep's first page: its entry stays as it was
                    return state, False, exc
                return {"since_id": since_id, "next_token": token, "newest_id": newest}, True, exc
            budgets.append(budget)
            meta = body.get("meta") or {}
            if newest is None and meta.get("newest_id"):
                newest = str(meta["newest_id"])
            items.extend(self._parse(body, rejected))
            token = meta.get("next_token")
            if not token:
                break
        if token:  # the sweep is not over: resume it next poll, the floor stays put
            return {"since_id": since_id, "next_token": token, "newest_id": newest}, True, None
        return {"since_id": newest or since_id}, False, None

    @staticmethod
    def _lowest(budgets: list[RateBudget]) -> RateBudget:
        known = [b for b in budgets if b.remaining is not None]
        if not known:
            return budgets[-1] if budgets else RateBudget()
        return min(known, key=lambda b: b.remaining)

    def _parse(self, body: dict[str, Any], rejected: list[RejectedItem]) -> list[FetchedItem]:
        data = body.get("data") or []
        includes = body.get("includes") or {}
        if not isinstance(data, list) or not isinstance(includes, dict):
            raise ConnectorError("X sent an unexpected payload shape")
        users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
        own_id = str(self.settings.get("user_id") or "")
        include_retweets = bool(self.settings.get("include_retweets", False))
        include_own = bool(self.settings.get("include_own_posts", False))
        items = []
        for tweet in data:
            if not isinstance(tweet, dict) or not tweet.get("id"):
                continue
            try:
                item = self._item(tweet, users, own_id, include_retweets, include_own)
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("X", tweet, exc))
                continue
            if item is not None:
                items.append(item)
        return items

    @staticmethod
    def _item(
        tweet: dict[str, Any], users: dict[str, Any], own_id: str, include_retweets: bool, include_own: bool
    ) -> FetchedItem | None:
        """One post as a FetchedItem; None for a repost or the brand's own post when they are left out."""
        refs = [r for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)]
        if not include_retweets and any(r.get("type") == "retweeted" for r in refs):
            return None
        author_id = str(tweet.get("author_id") or "")
        if own_id and author_id == own_id and not include_own:
            return None
        parent = next((str(r.get("id")) for r in refs if r.get("type") == "replied_to"), "")
        user = users.get(author_id, {})
        handle = str(user.get("username") or "")
        author = FetchedAuthor(
            external_id=author_id,
            handle=handle,
            name=str(user.get("name") or ""),
            followers=int((user.get("public_metrics") or {}).get("followers_count") or 0),
            verified=bool(user.get("verified")),
            profile_url=f"https://x.com/{handle}" if handle else "",
            avatar_url=safe_url(user.get("profile_image_url")),
        )
        tweet_id = str(tweet["id"])
        conversation = str(tweet.get("conversation_id") or "")
        url = f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}"
        return FetchedItem(
            external_id=tweet_id,
            text=str(tweet.get("text") or ""),
            author=author,
            published_at=_parse_time(tweet.get("created_at")),
            kind="reply" if parent else "mention",
            url=url,
            parent_external_id=parent,
            thread_root=conversation if conversation != tweet_id else "",
            metrics=_int_metrics(tweet.get("public_metrics")),
            raw_language=str(tweet.get("lang") or ""),
        )

    @classmethod
    def item_url(cls, external_id: str) -> str:
        # A post's id alone makes its address (https://x.com/i/web/status/<id>); ids are digits.
        return f"https://x.com/i/web/status/{external_id}" if external_id.isdigit() else ""

    # --- replying -----------------------------------------------------------------------------
    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        client = self._client(user_auth=True)
        try:
            body, _ = self._call(
                client.create_tweet, text=text, in_reply_to_tweet_id=parent_external_id, user_auth=True
            )
        finally:
            client.session.close()
        tweet_id = str((body.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise ConnectorError("X did not return the id of the reply")
        return PostedReply(external_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")

    def find_reply(self, parent_external_id: str, text: str, *, since: datetime) -> PostedReply | None:
        """The brand account's recent posts, read back for its answer to ``parent_external_id``
        (https://docs.x.com/x-api/users/get-posts: newest first, ``start_time`` bounds the window)."""
        user_id = str(self.settings.get("user_id") or "")
        if not user_id:
            raise ConnectorError("X needs the channel's user_id to read its replies back")
        client = self._client(user_auth=True)
        try:
            body, _ = self._call(
                client.get_users_tweets,
                user_id,
                start_time=since,
                max_results=100,
                tweet_fields=["referenced_tweets", "created_at"],
                user_auth=True,
            )
        finally:
            client.session.close()
        # X puts the @handles of the conversation before a reply's text; ours did not write them.
        keep_handles = text.lstrip().startswith("@")
        answers = [
            (str(tweet.get("id") or ""), str(tweet.get("text") or ""))
            if keep_handles
            else (str(tweet.get("id") or ""), LEADING_HANDLES.sub("", str(tweet.get("text") or "")))
            for tweet in body.get("data") or []
            if isinstance(tweet, dict)
            and any(
                isinstance(ref, dict) and ref.get("type") == "replied_to" and str(ref.get("id")) == parent_external_id
                for ref in tweet.get("referenced_tweets") or []
            )
        ]
        truncated = bool((body.get("meta") or {}).get("next_token"))
        found = brands_reply_among(answers, text, truncated=truncated, platform="X")
        return PostedReply(external_id=found, url=f"https://x.com/i/web/status/{found}") if found else None

    # --- platform deletions ---------------------------------------------------------------------
    def check_deleted(self, external_ids: list[str], state: dict[str, Any]) -> DeletionCheck:
        """X's batch compliance (tweepy ``create_compliance_job``): a new job for ``external_ids``,
        their upload to its ``upload_url``, and on later runs its status until its results can be
        read from ``download_url``. https://docs.x.com/x-api/compliance/batch-compliance/introduction
        """
        client = self._client()
        transfer = mount_outbound(requests.Session(), self.base_url, COMPLIANCE_STORAGE_HOSTS)
        try:
            if state.get("job_id"):
                return self._compliance_result(client, transfer, str(state["job_id"]))
            if not external_ids:
                return DeletionCheck()
            body, budget = self._call(client.create_compliance_job, "tweets", name=f"escucha-{self.channel.pk}")
            job = body.get("data") or {}
            if not isinstance(job, dict) or not job.get("id") or not safe_url(job.get("upload_url")):
                raise ConnectorError("X did not return a compliance job to upload to")
            self._transfer(
                transfer, "PUT", str(job["upload_url"]), data="\n".join(external_ids).encode(),
                headers={"Content-Type": "text/plain"},
            )  # fmt: skip
            return DeletionCheck(checked=frozenset(external_ids), state={"job_id": str(job["id"])}, budget=budget)
        finally:
            transfer.close()
            client.session.close()

    def _compliance_result(self, client: tweepy.Client, transfer: requests.Session, job_id: str) -> DeletionCheck:
        body, budget = self._call(client.get_compliance_job, job_id)
        job = body.get("data") or {}
        status = str(job.get("status") or "") if isinstance(job, dict) else ""
        if status in COMPLIANCE_PENDING:
            return DeletionCheck(state={"job_id": job_id}, budget=budget)
        if status != "complete" or not safe_url(job.get("download_url")):
            # failed or expired: the ids are uploaded again in a new job when their recheck comes.
            raise ConnectorError(f"X compliance job {job_id} ended {status or 'without a status'}", permanent=True)
        response = self._transfer(transfer, "GET", str(job["download_url"]))
        gone: set[str] = set()
        for line in response.text.splitlines():
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as exc:
                raise ConnectorError("X sent a malformed compliance result") from exc
            if isinstance(event, dict) and event.get("action") == "delete" and event.get("id"):
                gone.add(str(event["id"]))
        return DeletionCheck(gone=frozenset(gone), budget=budget)

    @staticmethod
    def _transfer(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
        """An upload or download of a compliance job's file: its URL is signed, no token goes with it."""
        try:
            response = session.request(method, url, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise ConnectorError(f"X's compliance storage could not be reached: {exc}") from exc
        if response.status_code >= 400:
            raise ConnectorError(
                f"X's compliance storage answered {response.status_code}",
                status=response.status_code,
                permanent=400 <= response.status_code < 500 and response.status_code != 429,
            )
        return response

    # --- publishing ---------------------------------------------------------------------------
    @classmethod
    def text_length(cls, text: str) -> int:
        """X's weighted length: most CJK characters and emoji count 2, every URL 23 (t.co), after
        Unicode NFC (https://docs.x.com/resources/fundamentals/counting-characters)."""
        return parse_tweet(text).weightedLength

    def publish_post(self, text: str, link: str = "") -> PostedReply:
        client = self._client(user_auth=True)
        try:
            body, _ = self._call(client.create_tweet, text=self.post_text(text, link), user_auth=True)
        finally:
            client.session.close()
        tweet_id = str((body.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise ConnectorError("X did not return the id of the post")
        return PostedReply(external_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")

    def find_post(self, text: str, link: str = "", *, since: datetime) -> PostedReply | None:
        """The brand account's posts since ``since`` that answer nothing, read back for this one
        (https://docs.x.com/x-api/users/get-posts)."""
        user_id = str(self.settings.get("user_id") or "")
        if not user_id:
            raise ConnectorError("X needs the channel's user_id to read its posts back")
        client = self._client(user_auth=True)
        try:
            body, _ = self._call(
                client.get_users_tweets,
                user_id,
                start_time=since,
                max_results=100,
                tweet_fields=["referenced_tweets", "created_at"],
                user_auth=True,
            )
        finally:
            client.session.close()
        posts = [
            (str(tweet.get("id") or ""), str(tweet.get("text") or ""))
            for tweet in body.get("data") or []
            if isinstance(tweet, dict) and not tweet.get("referenced_tweets")
        ]
        truncated = bool((body.get("meta") or {}).get("next_token"))
        found = own_post_among(posts, self.post_text(text, link), truncated=truncated, platform="X")
        return PostedReply(external_id=found, url=f"https://x.com/i/web/status/{found}") if found else None

    def post_metrics(self, external_ids: list[str]) -> dict[str, dict[str, int]]:
        """``public_metrics`` of the brand's posts (https://docs.x.com/x-api/posts/post-lookup-by-post-ids),
        at most 100 ids a call."""
        metrics: dict[str, dict[str, int]] = {}
        client = self._client(user_auth=True)
        try:
            for start in range(0, len(external_ids), 100):
                body, _ = self._call(
                    client.get_tweets,
                    external_ids[start : start + 100],
                    tweet_fields=["public_metrics"],
                    user_auth=True,
                )
                for tweet in body.get("data") or []:
                    if isinstance(tweet, dict) and tweet.get("id"):
                        metrics[str(tweet["id"])] = _int_metrics(tweet.get("public_metrics"))
        finally:
            client.session.close()
        return metrics

    # --- other accounts -----------------------------------------------------------------------
    def account_posts(self, account: str, *, since: datetime) -> list[AccountPost]:
        """A competitor's posts since ``since``, neither reposts nor replies, with ``public_metrics``:
        the user by handle (https://docs.x.com/x-api/users/user-lookup-by-username), then their
        timeline (https://docs.x.com/x-api/users/get-posts), at most ``max_pages`` pages of 100."""
        handle = account.strip().lstrip("@")
        client = self._client()
        try:
            body, _ = self._call(client.get_user, username=handle)
            user_id = str((body.get("data") or {}).get("id") or "")
            if not user_id:
                raise ConnectorError(f"X has no account @{handle}", permanent=True, status=404)
            posts: list[AccountPost] = []
            token = None
            for _ in range(max(int(self.settings.get("max_pages") or 5), 1)):
                params: dict[str, Any] = {
                    "start_time": since,
                    "max_results": 100,
                    "tweet_fields": ["public_metrics", "created_at"],
                    "exclude": ["retweets", "replies"],
                }
                if token:
                    params["pagination_token"] = token
                body, _ = self._call(client.get_users_tweets, user_id, **params)
                for tweet in body.get("data") or []:
                    if isinstance(tweet, dict) and tweet.get("id"):
                        posts.append(
                            AccountPost(
                                external_id=str(tweet["id"]),
                                published_at=_parse_time(tweet.get("created_at")),
                                metrics=_int_metrics(tweet.get("public_metrics")),
                            )
                        )
                token = (body.get("meta") or {}).get("next_token")
                if not token:
                    break
        finally:
            client.session.close()
        return posts
