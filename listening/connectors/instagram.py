"""Instagram professional account (linked to a Facebook Page) through facebook-sdk's ``GraphAPI``:
comments and replies on the account's media, media the account is tagged in, comments and captions
that @mention it (from the ``mentions`` webhook), and replies as answers to a comment; plus the
parser of the ``comments`` and ``mentions`` webhook fields.

Instagram speaks through the same Graph API as a Facebook Page, so this connector borrows the Facebook
one's client set-up (the current Graph version, the token in the Authorization header, the outbound
HTTP policy), its error mapping and its budget reading; only what is read and how differs.
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments

Settings: ``ig_user_id`` (the Instagram account's Graph id), ``graph_version`` (e.g. ``v21.0``),
``max_media`` (default 25: on how many media a poll reads comments), ``max_pages`` per
edge and poll (default 5), ``hashtags`` (the hashtags to follow, within the account's budget of 30
new ones a week kept by ``listening.hashtags``). Credentials: ``page_access_token`` (the linked Page's token with
``instagram_basic``, ``instagram_manage_comments``, ``pages_read_engagement``); for the webhook
``app_secret`` and ``verify_token``, as a Facebook Page's.

Tags: ``/{ig-user-id}/tags`` lists, newest first, the media other accounts tagged the account in;
each poll reads them down to the cursor's floor. @mentions have no list to poll: Instagram sends
the ids in a ``mentions`` webhook delivery, and the comment or caption is read with the account's
``mentioned_comment`` / ``mentioned_media`` fields
(https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions).

Hashtags: each is looked up once (``ig_hashtag_search``, its id kept in ``HashtagSearch``), then
``/{hashtag-id}/recent_media`` is read down to the hashtag's own floor (``cursor["hashtags"]``: hashtag
id → unix time of its newest media seen). A hashtag's media are mentions with no owner (Graph names
none there) and cannot be answered through the API.

Cursor: ``{"since": <unix time of the newest comment seen>}``. The comments edge takes no time floor,
so each poll reads the comments of the media and keeps those at or after the floor; comments at that
very second are read again, and the ingestion dedupes them. Media without comments cost no request.
A poll lists the ``NEWEST_MEDIA`` newest media and any of the last ``FIRST_POLL_DAYS``; a media's new
comments do not bring it back among them, so as on a Facebook Page (``Connector.comment_order``) the
media read are, up to ``max_media``: those owed by earlier polls, then older media whose
conversations moved lately (looked up by id), then the newest. Those left over are owed
(``comments_owed``: media id → the floor their comments are read from), read first on the next
polls, and the channel shows how many. A slow Graph must not carry a poll past its task's time
limit: past ``COMMENTS_SECONDS`` the media not reached yet are owed the same way. A fault part-way is handled
the same way: what was read is kept (``FetchResult.error``), the media it hit and those after it are
owed, and the floor stays where it was so the tags and the other media are read from it again.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import facebook

from listening.connectors._http import safe_url, unique_items
from listening.connectors.base import (
    ITEM_PARSE_ERRORS,
    ConnectorError,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    Gone,
    PostedReply,
    RateLimited,
    RejectedItem,
    SettingField,
    brands_reply_among,
    owe_comments,
    unreadable_item,
)
from listening.connectors.facebook import PAGE_SIZE, FacebookConnector, parse_time

if TYPE_CHECKING:
    from listening.models import Channel

MEDIA_FIELDS = "id,caption,permalink,timestamp,comments_count"
# Someone else's media: its owner is known by the username only.
TAGGED_FIELDS = "id,caption,permalink,timestamp,username"
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,like_count,username,media{id,permalink}"
PERSON_FIELDS = "id,text,timestamp,username,like_count,from{id,username}"
COMMENT_FIELDS = f"{PERSON_FIELDS},replies{{{PERSON_FIELDS}}}"
# Instagram usernames: letters, digits, periods and underscores, at most 30.
USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
FIRST_POLL_DAYS = 7
# How many of the newest media a poll lists at least, whatever their age (their comments are read
# within ``max_media`` a poll; media without comments cost nothing).
NEWEST_MEDIA = 25
# ``Mention.reply_route`` of an @mention on someone else's media (told by the ``mentions`` webhook).
MENTIONS_ROUTE = "mentions"
# What a mention's answers are read back with: the account's own answers are told by its username
# (other people's media name no Instagram-scoped ids).
ANSWER_FIELDS = "id,text,timestamp,username"
# A hashtag's media: Graph names no owner for them (no username field on recent_media).
# https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-hashtag/recent-media
HASHTAG_MEDIA_FIELDS = "id,caption,permalink,timestamp,media_type,comments_count,like_count"
UNKNOWN_HASHTAG_RECHECK = 3600
HASHTAG_BUDGET_SPENT = "Not looked up: the account's 30 hashtags of the last 7 days are taken (#%(name)s waits)"
# What Graph answers a look-up past the account's 30 hashtags in 7 days; Meta documents the limit but
# not its error, so it is told by its code and message together.
HASHTAG_LIMIT_CODE = 24


def _is_budget_refusal(exc: ConnectorError) -> bool:
    cause = exc.__cause__
    code = getattr(cause, "code", None)
    message = str(exc).lower()
    return code == HASHTAG_LIMIT_CODE or ("hashtag" in message and "limit" in message)


# How long one fetch keeps reading comments, media after media (as Facebook's: the poll task stops at 45 s).
COMMENTS_SECONDS = 20


def _author(comment: dict[str, Any]) -> FetchedAuthor:
    """The commenter: ``from.id`` (their Instagram-scoped id) when Graph gives it, else the username."""
    person = comment.get("from")
    person = person if isinstance(person, dict) else {}
    username = str(person.get("username") or comment.get("username") or "")
    person_id = str(person.get("id") or "")
    external_id = person_id or (f"username:{username}" if username else "unknown")
    profile = f"https://www.instagram.com/{username}/" if USERNAME.fullmatch(username) else ""
    return FetchedAuthor(external_id=external_id, handle=username, name=username, profile_url=profile)


def _owner(username: Any) -> FetchedAuthor:
    """An account known by its username only (the owner of a tagged or mentioning media)."""
    return _author({"username": username})


def _caption_title(caption: Any) -> str:
    lines = str(caption or "").strip().splitlines()
    return lines[0].strip()[:255] if lines else ""


@dataclass(frozen=True)
class MentionRef:
    """What a ``mentions`` delivery says: the comment that @mentions the account, or (no comment)
    the media whose caption does."""

    media_id: str
    comment_id: str = ""


def parse_webhook(payload: Any, ig_user_id: str = "") -> tuple[list[FetchedItem], list[MentionRef]]:
    """What an Instagram delivery (``object: instagram``) carries: the comments on the account's
    media as items (the ``comments`` field sends their text), and the @mentions to read back.

    https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not an Instagram webhook payload")
    items: list[FetchedItem] = []
    mentions: list[MentionRef] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        sent_at = entry.get("time") if isinstance(entry.get("time"), int | float) else time.time()
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            field = change.get("field")
            if field == "mentions":
                media_id, comment_id = str(value.get("media_id") or ""), str(value.get("comment_id") or "")
                if media_id or comment_id:
                    mentions.append(MentionRef(media_id=media_id, comment_id=comment_id))
                continue
            if field != "comments" or not value.get("id"):
                continue
            sender = value.get("from") if isinstance(value.get("from"), dict) else {}
            if ig_user_id and str(sender.get("id") or "") == ig_user_id:
                continue  # the account's own answers are the brand's voice
            media = value.get("media") if isinstance(value.get("media"), dict) else {}
            media_id = str(media.get("id") or "")
            parent = str(value.get("parent_id") or "")
            items.append(
                FetchedItem(
                    external_id=str(value["id"]),
                    text=str(value.get("text") or ""),
                    author=_author(value),
                    # The field sends no time of its own: the delivery's is the comment's, within seconds.
                    published_at=parse_time(sent_at),
                    kind="reply" if parent else "comment",
                    parent_external_id=parent or media_id,
                    source=media_id,
                )
            )
    return items, mentions


class InstagramConnector(FacebookConnector):
    platform = "instagram"
    label: ClassVar[str] = "Instagram"
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
    reply_max_length: ClassVar[int] = 2200
    # Instagram publishes images and videos, never text alone (content_publish needs an image_url or
    # video_url: https://developers.facebook.com/docs/instagram-platform/content-publishing).
    post_max_length: ClassVar[int] = 0
    settings_fields = (
        SettingField("ig_user_id", required=True, pattern=r"[0-9A-Za-z._-]{1,100}"),
        SettingField("graph_version", pattern=r"v[0-9]{1,2}\.[0-9]"),
        SettingField("max_media", int),
        SettingField("max_pages", int),
        # Letters, digits and underscores (Instagram's hashtags); a leading # is allowed and dropped.
        SettingField("hashtags", list, pattern=r"#?\w{1,100}", max_items=30),
    )
    credential_keys = ("page_access_token", "app_secret", "verify_token")
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment#updating
    hide_field: ClassVar[str] = "hide"

    @classmethod
    def clean_settings(cls, raw: Any, *, api_base_url: str = "") -> tuple[dict[str, Any], dict[str, str]]:
        cleaned, errors = super().clean_settings(raw, api_base_url=api_base_url)
        if "hashtags" in cleaned:
            # Instagram's hashtags are case-insensitive; one name per hashtag keeps the budget honest.
            names = [name.removeprefix("#").lower() for name in cleaned["hashtags"]]
            cleaned["hashtags"] = list(dict.fromkeys(names))
        return cleaned, errors

    @classmethod
    def settings_errors(cls, settings: dict[str, Any], *, channel: Channel | None) -> dict[str, str]:
        from listening.hashtags import hashtags_refusal

        refusal = hashtags_refusal(
            ig_user_id=str(settings.get("ig_user_id") or ""),
            names=list(settings.get("hashtags") or []),
            channel=channel,
        )
        return {"hashtags": refusal} if refusal else {}

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        ig_user_id = str(self.settings.get("ig_user_id") or "")
        if not ig_user_id:
            raise ConnectorError("Instagram channel needs an ig_user_id setting", permanent=True)
        since = int(cursor.get("since") or (datetime.now(UTC) - timedelta(days=FIRST_POLL_DAYS)).timestamp())
        owed = {
            str(media_id): int(floor)
            for media_id, floor in (cursor.get("comments_owed") or {}).items()
            if isinstance(floor, int | float)
        }
        floors = {str(k): int(v) for k, v in (cursor.get("hashtags") or {}).items() if isinstance(v, int | float)}
        followed = {str(name) for name in self.settings.get("hashtags") or []}
        checks = {
            str(k): int(v)
            for k, v in (cursor.get("hashtag_checks") or {}).items()
            if k in followed and isinstance(v, int | float)
        }
        graph, last = self._graph()
        try:
            items, rejected, still_owed, error = self._collect(graph, last, ig_user_id, since, owed)
            hashtag_items: list[FetchedItem] = []
            if error is None:
                hashtag_items, floors, error = self._hashtags(graph, last, ig_user_id, since, floors, checks, rejected)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConnectorError(f"Instagram sent a malformed item: {exc}") from exc
        finally:
            graph.session.close()
        if error is not None and not items and not hashtag_items:
            raise error
        # A hashtag's media move its own floor (in ``floors``), not the comments' one.
        newest = max((int(item.published_at.timestamp()) for item in items), default=since)
        items += hashtag_items
        rest = {k: v for k, v in cursor.items() if k not in ("since", "comments_owed", "hashtags", "hashtag_checks")}
        if still_owed:
            rest["comments_owed"] = still_owed
        if floors:
            rest["hashtags"] = floors
        if checks:
            rest["hashtag_checks"] = checks
        return FetchResult(
            items=unique_items(items),
            # Cut short, the floor stays: the media and tags not read are read from it next time.
            cursor={**rest, "since": since if error is not None else max(newest, since)},
            budget=self._budget(last.get("response")),
            deferred=len(still_owed),
            rejected=rejected,
            error=error,
        )

    def _newest_media(
        self, graph: facebook.GraphAPI, last: dict[str, Any], ig_user_id: str, floor: datetime
    ) -> list[dict[str, Any]]:
        """The account's newest ``NEWEST_MEDIA`` media (or ``max_media``, if more) and any other
        published since ``floor``, newest first: the pages stop past both (or after ``max_pages``)."""
        listed = max(int(self.settings.get("max_media") or NEWEST_MEDIA), NEWEST_MEDIA)
        max_pages = max(int(self.settings.get("max_pages") or 5), 1)
        args: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": PAGE_SIZE}
        media: list[dict[str, Any]] = []
        for _ in range(max_pages):
            result = self._request(graph, last, f"{ig_user_id}/media", args=dict(args))
            data = result.get("data")
            if not isinstance(data, list):
                raise ConnectorError("Instagram sent an unexpected payload shape")
            older = False
            for obj in data:
                if not isinstance(obj, dict) or not obj.get("id"):
                    continue
                try:
                    if len(media) >= listed and parse_time(obj.get("timestamp")) < floor:
                        older = True
                        break
                except ITEM_PARSE_ERRORS:
                    pass  # its comments are read all the same
                media.append(obj)
            paging = result.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if older or not data or not paging.get("next") or not after:
                break
            args["after"] = str(after)
        return media

    def _media_by_id(self, graph: facebook.GraphAPI, last: dict[str, Any], ids: list[str]) -> dict[str, dict[str, Any]]:
        """Media outside the newest ones (owed, or with a live conversation), looked up by id, 50 a
        request (``GET /?ids=``). One that is gone fails a whole request (Graph's code 100), so those
        are then asked one at a time and the gone ones left out."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            try:
                result = self._request(graph, last, "", args={"ids": ",".join(chunk), "fields": MEDIA_FIELDS})
            except ConnectorError as exc:
                if not exc.permanent:
                    raise
                result = {}
                for media_id in chunk:
                    try:
                        result[media_id] = self._request(graph, last, media_id, args={"fields": MEDIA_FIELDS})
                    except ConnectorError as one:
                        if not one.permanent:
                            raise
            for media_id, media in result.items():
                if isinstance(media, dict) and media.get("id"):
                    found[str(media_id)] = media
        return found

    def _collect(
        self, graph: facebook.GraphAPI, last: dict[str, Any], ig_user_id: str, since: int, owed: dict[str, int]
    ) -> tuple[list[FetchedItem], list[RejectedItem], dict[str, int], ConnectorError | None]:
        """Items since the floor; the items Graph sent unreadable; the media whose comments are owed;
        the failure that cut the fetch short, if one did (the media it hit and those after it are
        owed, and what was read before it is kept)."""
        items: list[FetchedItem] = []
        rejected: list[RejectedItem] = []

        def keep(comment: Any, kind: str, parent: str, media: dict[str, Any], floor: datetime) -> None:
            try:
                if str((comment.get("from") or {}).get("id") or "") == ig_user_id:
                    return  # the account's own answers are the brand's voice, not mentions
                if parse_time(comment.get("timestamp")) >= floor:
                    items.append(self._ig_item(comment, kind, parent, media))
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("Instagram", comment, exc))

        window = since - FIRST_POLL_DAYS * 86400
        try:
            newest_media = self._newest_media(graph, last, ig_user_id, datetime.fromtimestamp(window, UTC))
        except ConnectorError as exc:
            return items, rejected, owed, exc
        known = {str(media["id"]): media for media in newest_media}
        # Media without comments cost no request.
        newest = [
            media_id
            for media_id, media in known.items()
            if not (isinstance(media.get("comments_count"), int) and media["comments_count"] <= 0)
        ]
        # The media owed by earlier polls first, from the floor they were owed at, then the
        # conversations that moved lately on older media, then the newest; max_media of them a poll.
        order, owed = self.comment_order(
            {"comments_owed": owed}, newest, window_start=datetime.fromtimestamp(window, UTC), not_before=window
        )
        budget = max(int(self.settings.get("max_media") or 25), 1)
        still_owed = owe_comments(order[budget:], owed, since)
        order = order[:budget]
        try:
            known.update(self._media_by_id(graph, last, [media_id for media_id in order if media_id not in known]))
        except ConnectorError as exc:
            return items, rejected, {**owe_comments(order, owed, since), **still_owed}, exc
        deadline = time.monotonic() + COMMENTS_SECONDS
        error: ConnectorError | None = None
        for media_id in order:
            media = known.get(media_id)
            media_since = min(owed.get(media_id, since), since)
            if media is None:
                continue  # gone since its last comment: nothing left to read
            if error is not None or time.monotonic() > deadline:
                still_owed[media_id] = media_since
                continue
            if isinstance(media.get("comments_count"), int) and media["comments_count"] <= 0:
                continue
            floor = datetime.fromtimestamp(media_since, UTC)
            try:
                comments, _more = self._edge(
                    graph, last, f"{media_id}/comments", {"fields": COMMENT_FIELDS, "limit": PAGE_SIZE}
                )
            except Gone:
                continue  # deleted since it was looked up: nothing left to read
            except ConnectorError as exc:
                error = exc
                still_owed[media_id] = media_since
                continue
            for comment in comments:
                keep(comment, "comment", media_id, media, floor)
                # An old comment's new replies count: each reply is judged by its own time.
                replies = comment.get("replies")
                data = replies.get("data") if isinstance(replies, dict) else None
                for reply in data if isinstance(data, list) else []:
                    if isinstance(reply, dict) and reply.get("id"):
                        keep(reply, "reply", str(comment["id"]), media, floor)
        if error is not None:
            return items, rejected, still_owed, error
        try:
            tagged = self._tagged(graph, last, ig_user_id, datetime.fromtimestamp(since, UTC))
        except ConnectorError as exc:
            return items, rejected, still_owed, exc
        for media in tagged:
            try:
                items.append(self.media_item(media))
            except ITEM_PARSE_ERRORS as exc:
                rejected.append(unreadable_item("Instagram", media, exc))
        return items, rejected, still_owed, None

    def _tagged(
        self, graph: facebook.GraphAPI, last: dict[str, Any], ig_user_id: str, floor: datetime
    ) -> list[dict[str, Any]]:
        """The media the account was tagged in since ``floor``: newest first, so the pages stop at
        the first one older than the floor (or after ``max_pages``)."""
        return self._media_since(
            graph, last, f"{ig_user_id}/tags", {"fields": TAGGED_FIELDS, "limit": PAGE_SIZE}, floor
        )

    def _media_since(
        self, graph: facebook.GraphAPI, last: dict[str, Any], path: str, args: dict[str, Any], floor: datetime
    ) -> list[dict[str, Any]]:
        """The media of a newest-first edge published since ``floor``: the pages stop at one that
        holds an older media (or after ``max_pages``)."""
        max_pages = max(int(self.settings.get("max_pages") or 5), 1)
        found: list[dict[str, Any]] = []
        for _ in range(max_pages):
            result = self._request(graph, last, path, args=dict(args))
            data = result.get("data")
            if not isinstance(data, list):
                raise ConnectorError("Instagram sent an unexpected payload shape")
            older = False
            for media in data:
                if not isinstance(media, dict) or not media.get("id"):
                    continue
                try:
                    if parse_time(media.get("timestamp")) < floor:
                        older = True
                        continue
                except ITEM_PARSE_ERRORS:
                    pass  # kept: media_item sets it aside, named
                found.append(media)
            paging = result.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if older or not data or not paging.get("next") or not after:
                break
            args["after"] = str(after)
        return found

    def _hashtags(
        self,
        graph: facebook.GraphAPI,
        last: dict[str, Any],
        ig_user_id: str,
        since: int,
        floors: dict[str, int],
        checks: dict[str, int],
        rejected: list[RejectedItem],
    ) -> tuple[list[FetchedItem], dict[str, int], ConnectorError | None]:
        """The new media of each followed hashtag: its id looked up once (within the account's budget,
        ``listening.hashtags``), then ``/{hashtag-id}/recent_media`` read down to the hashtag's floor.

        Returns the media, the floors (hashtag id → unix time of the newest media seen; a hashtag
        whose read failed keeps its old one) and the failure that stopped the reading, if one did.
        A hashtag Instagram refuses to look up (its budget spent by another app, a hashtag it deems
        sensitive) is set aside on the channel (``rejected``) and the others are read. One Instagram
        knows no id for (a campaign's hashtag before its first post) is looked up again hourly
        (``checks``: name → unix time of the last look-up), free within its 7 days.
        """
        from listening.hashtags import hashtag_searched, hashtag_slot, hashtags_known

        names = [str(name) for name in self.settings.get("hashtags") or []]
        if not names:
            return [], {}, None
        known = hashtags_known(ig_user_id=ig_user_id, names=names)
        items: list[FetchedItem] = []
        kept: dict[str, int] = {}
        budget_spent = False
        for name in names:
            hashtag_id = known.get(name)
            if not hashtag_id:
                if hashtag_id == "" and time.time() - checks.get(name, 0) < UNKNOWN_HASHTAG_RECHECK:
                    continue  # Instagram knew no such hashtag a moment ago
                if budget_spent:
                    rejected.append(RejectedItem(f"#{name}", HASHTAG_BUDGET_SPENT % {"name": name}))
                    continue
                with hashtag_slot(ig_user_id=ig_user_id, name=name) as may_search:
                    if may_search is None:
                        continue  # another channel of the account is looking one up: next poll
                    if not may_search:
                        rejected.append(RejectedItem(f"#{name}", HASHTAG_BUDGET_SPENT % {"name": name}))
                        continue
                    try:
                        found = self._request(graph, last, "ig_hashtag_search", args={"user_id": ig_user_id, "q": name})
                    except RateLimited as exc:
                        return items, {**floors, **kept}, exc
                    except ConnectorError as exc:
                        if exc.reconnect or not exc.permanent:
                            return items, {**floors, **kept}, exc
                        # Refused for this hashtag: not looked up, so not counted; the others go on.
                        budget_spent = budget_spent or _is_budget_refusal(exc)
                        rejected.append(RejectedItem(f"#{name}", f"Instagram refused to look up #{name}: {exc}"[:300]))
                        continue
                    data = found.get("data")
                    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
                    hashtag_id = str(first.get("id") or "")
                    hashtag_searched(ig_user_id=ig_user_id, name=name, hashtag_id=hashtag_id)
                if hashtag_id:
                    checks.pop(name, None)
                else:
                    checks[name] = int(time.time())
            if not hashtag_id:
                continue  # Instagram knows no such hashtag (yet)
            floor = floors.get(hashtag_id, since)
            try:
                media = self._hashtag_media(graph, last, ig_user_id, hashtag_id, datetime.fromtimestamp(floor, UTC))
            except ConnectorError as exc:
                return items, {**floors, **kept}, exc
            newest = floor
            for obj in media:
                try:
                    item = self.media_item(obj)
                except ITEM_PARSE_ERRORS as exc:
                    rejected.append(unreadable_item("Instagram", obj, exc))
                    continue
                items.append(item)
                newest = max(newest, int(item.published_at.timestamp()))
            kept[hashtag_id] = newest
        # Only the hashtags still followed keep a floor.
        return items, kept, None

    def _hashtag_media(
        self, graph: facebook.GraphAPI, last: dict[str, Any], ig_user_id: str, hashtag_id: str, floor: datetime
    ) -> list[dict[str, Any]]:
        """A hashtag's media published since ``floor``, over at most ``max_pages`` pages: newest first,
        so the pages stop at one that holds an older media. Instagram gives only the last 24 hours."""
        args = {"user_id": ig_user_id, "fields": HASHTAG_MEDIA_FIELDS, "limit": PAGE_SIZE // 2}
        return self._media_since(graph, last, f"{hashtag_id}/recent_media", args, floor)

    @staticmethod
    def media_item(media: dict[str, Any]) -> FetchedItem:
        """A media of another account that tags or @mentions the brand's: a mention, by its owner."""
        return FetchedItem(
            external_id=str(media["id"]),
            text=str(media.get("caption") or ""),
            author=_owner(media.get("username")),
            published_at=parse_time(media["timestamp"]),
            kind="mention",
            url=safe_url(media.get("permalink")),
            source=str(media["id"]),
            source_title=_caption_title(media.get("caption")),
        )

    def fetch_mentioned(self, references: list[MentionRef]) -> list[FetchedItem]:
        """The comments and captions a ``mentions`` delivery named, read through the account's
        ``mentioned_comment`` / ``mentioned_media`` fields: the delivery carries only their ids."""
        ig_user_id = str(self.settings.get("ig_user_id") or "")
        if not ig_user_id:
            raise ConnectorError("Instagram channel needs an ig_user_id setting", permanent=True)
        graph, last = self._graph()
        items: list[FetchedItem] = []
        try:
            for ref in references:
                if ref.comment_id:
                    field = f"mentioned_comment.comment_id({ref.comment_id}){{{MENTIONED_COMMENT_FIELDS}}}"
                else:
                    field = f"mentioned_media.media_id({ref.media_id}){{{TAGGED_FIELDS}}}"
                result = self._request(graph, last, ig_user_id, args={"fields": field})
                found = result.get("mentioned_comment" if ref.comment_id else "mentioned_media")
                if not isinstance(found, dict) or not found.get("id"):
                    continue  # removed since, or on media whose comments are now off
                try:
                    item = self._mentioned_comment(found) if ref.comment_id else self.media_item(found)
                    # Someone else's media: answered through the account's mentions edge, never replies.
                    items.append(replace(item, reply_route=MENTIONS_ROUTE))
                except ITEM_PARSE_ERRORS as exc:
                    raise ConnectorError(f"Instagram sent a malformed item: {exc}") from exc
        finally:
            graph.session.close()
        return items

    @staticmethod
    def _mentioned_comment(comment: dict[str, Any]) -> FetchedItem:
        media = comment.get("media") if isinstance(comment.get("media"), dict) else {}
        likes = comment.get("like_count")
        return FetchedItem(
            external_id=str(comment["id"]),
            text=str(comment.get("text") or ""),
            author=_owner(comment.get("username")),
            published_at=parse_time(comment["timestamp"]),
            kind="mention",
            url=safe_url(media.get("permalink")),
            source=str(media.get("id") or ""),
            metrics={"likes": likes} if isinstance(likes, int) and not isinstance(likes, bool) else {},
        )

    @staticmethod
    def _ig_item(comment: dict[str, Any], kind: str, parent: str, media: dict[str, Any]) -> FetchedItem:
        comment_id = str(comment["id"])
        likes = comment.get("like_count")
        return FetchedItem(
            external_id=comment_id,
            text=str(comment.get("text") or ""),
            author=_author(comment),
            published_at=parse_time(comment["timestamp"]),
            kind=kind,
            # Graph gives no address for a comment: the media's permalink is where it is read.
            url=safe_url(media.get("permalink")),
            parent_external_id=parent,
            source=str(media["id"]),
            source_title=_caption_title(media.get("caption")),
            metrics={"likes": likes} if isinstance(likes, int) and not isinstance(likes, bool) else {},
        )

    def _mention_route(self, external_id: str) -> tuple[str, str] | None:
        """(media id, comment id or "") when ``external_id`` is an @mention of the account on someone
        else's media, which Instagram answers only through ``/{ig-user-id}/mentions``."""
        from listening.selectors import mention_reply_route

        if self.channel.pk is None:
            return None
        stored = mention_reply_route(channel=self.channel, external_id=external_id)
        if stored is None or stored[0] != MENTIONS_ROUTE:
            return None
        media_id = stored[1] or external_id
        return media_id, "" if media_id == external_id else external_id

    def _someone_elses_media(self, external_id: str) -> bool:
        """Whether ``external_id`` is stored as another account's media (tagging the account, or found
        by a hashtag), not a comment: Graph takes no answer there."""
        from listening.selectors import mention_reply_route

        stored = mention_reply_route(channel=self.channel, external_id=external_id) if self.channel.pk else None
        return stored is not None and stored == ("", external_id)

    def post_reply(self, parent_external_id: str, text: str) -> PostedReply:
        """``POST /{ig-comment-id}/replies``: Instagram threads one level, on top-level comments.

        An @mention on someone else's media cannot be answered there: its comment (or, for a caption,
        its media) is answered with ``POST /{ig-user-id}/mentions``
        (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentions).
        """
        route = self._mention_route(parent_external_id)
        if route is None and self._someone_elses_media(parent_external_id):
            # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentions
            # ("Commenting on photos in which you were tagged is not supported"); nor on a hashtag's media.
            raise ConnectorError(
                "Instagram does not let apps comment on a post the account is tagged in or found by a "
                "hashtag; answer it on Instagram",
                permanent=True,
            )
        graph, last = self._graph()
        try:
            if route is None:
                path, args = f"{parent_external_id}/replies", {"message": text}
            else:
                media_id, comment_id = route
                path = f"{self._ig_user_id()}/mentions"
                args = {"media_id": media_id, **({"comment_id": comment_id} if comment_id else {}), "message": text}
            result = self._request(graph, last, path, post_args=args)
        finally:
            graph.session.close()
        reply_id = str(result.get("id") or "")
        if not reply_id:
            raise ConnectorError("Instagram did not return the id of the reply")
        return PostedReply(external_id=reply_id)

    def _ig_user_id(self) -> str:
        ig_user_id = str(self.settings.get("ig_user_id") or "")
        if not ig_user_id:
            raise ConnectorError("Instagram channel needs an ig_user_id setting", permanent=True)
        return ig_user_id

    def find_reply(self, parent_external_id: str, text: str, *, since: datetime) -> PostedReply | None:
        """The comment's replies read back for the account's own answer since ``since``."""
        route = self._mention_route(parent_external_id)
        if route is not None:
            return self._find_mention_answer(route, text, since=since)
        ig_user_id = str(self.settings.get("ig_user_id") or "")
        since = since.replace(microsecond=0)  # Graph times are whole seconds
        graph, last = self._graph()
        try:
            result = self._request(
                graph, last, f"{parent_external_id}/replies", args={"fields": PERSON_FIELDS, "limit": "100"}
            )
        finally:
            graph.session.close()
        answers = [
            (str(reply.get("id") or ""), str(reply.get("text") or ""))
            for reply in result.get("data") or []
            if isinstance(reply, dict)
            and str((reply.get("from") or {}).get("id") or "") == ig_user_id
            and parse_time(reply.get("timestamp")) >= since
        ]
        truncated = bool((result.get("paging") or {}).get("next"))
        found = brands_reply_among(answers, text, truncated=truncated, platform="Instagram")
        return PostedReply(external_id=found) if found else None

    def _find_mention_answer(self, route: tuple[str, str], text: str, *, since: datetime) -> PostedReply | None:
        """An answer to an @mention on someone else's media, read back where the mentions edge put it:
        among the mentioning comment's replies, or the captioned media's comments, through the
        account's ``mentioned_comment`` / ``mentioned_media`` fields, with the account's username."""
        media_id, comment_id = route
        since = since.replace(microsecond=0)
        if comment_id:
            field, edge = f"mentioned_comment.comment_id({comment_id}){{replies{{{ANSWER_FIELDS}}}}}", "replies"
        else:
            field, edge = f"mentioned_media.media_id({media_id}){{comments{{{ANSWER_FIELDS}}}}}", "comments"
        graph, last = self._graph()
        try:
            result = self._request(graph, last, self._ig_user_id(), args={"fields": f"username,{field}"})
        finally:
            graph.session.close()
        username = str(result.get("username") or "")
        found = result.get("mentioned_comment" if comment_id else "mentioned_media")
        if not username or not isinstance(found, dict):
            raise ConnectorError("Instagram did not show the mention's answers; the reply may be among them")
        listing = found.get(edge) if isinstance(found.get(edge), dict) else {}
        answers = [
            (str(answer.get("id") or ""), str(answer.get("text") or ""))
            for answer in listing.get("data") or []
            if isinstance(answer, dict)
            and str(answer.get("username") or "").lower() == username.lower()
            and parse_time(answer.get("timestamp")) >= since
        ]
        truncated = bool((listing.get("paging") or {}).get("next"))
        found_id = brands_reply_among(answers, text, truncated=truncated, platform="Instagram")
        return PostedReply(external_id=found_id) if found_id else None
