"""Reads for the listening app. Every read that crosses brands goes through ``brands_for_user``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Case, CharField, Exists, F, Func, Max, OuterRef, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from config import params
from config.roles import ADMIN
from listening.models import Brand, Channel, Intent, Mention, Platform, Sentiment, TrackedTerm


def user_sees_all_brands(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Superusers and members of the Admin role see every brand.

    Asked several times by one page (every list on it is narrowed by the user's brands), so it is
    read once per user object, as Django keeps a user's permissions on it (``_perm_cache``): a
    request loads its user afresh, so a role changed takes effect on the next request."""
    if not user.is_authenticated:
        return False
    try:
        return user._sees_all_brands
    except AttributeError:
        user._sees_all_brands = user.is_superuser or user.groups.filter(name=ADMIN).exists()
        return user._sees_all_brands


def brands_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    """The brands a user may see: the ones they are a member of, or all for admins."""
    if not user.is_authenticated:
        return Brand.objects.none()
    if user_sees_all_brands(user):
        return Brand.objects.all()
    return Brand.objects.filter(memberships__user=user)


def visible_brands(user: AbstractBaseUser | AnonymousUser) -> list[Brand]:
    """``brands_for_user`` read once per user object, like ``user_sees_all_brands``: the inbox
    narrows its page and each tab's count by their ids, and its filters list them."""
    try:
        return list(user._visible_brands)
    except AttributeError:
        user._visible_brands = tuple(brands_for_user(user))
        return list(user._visible_brands)


def brand_ids_for_user(user: AbstractBaseUser | AnonymousUser) -> list[int]:
    return [brand.pk for brand in visible_brands(user)]


def brand_for(request: HttpRequest) -> Brand:
    """The brand a page is about: the one in ?brand= (id or slug) among the user's brands, else their first; 404 for others'."""
    brands = brands_for_user(request.user)
    value = request.GET.get("brand", "").strip()
    if not value:
        brand = brands.order_by("name").first()
        if brand is None:
            raise Http404
        return brand
    return get_object_or_404(brands, **brand_lookup(value))


def brand_lookup(value: str) -> dict[str, object]:
    """A brand reference (an id or a slug) as a lookup; what is neither matches no brand."""
    if value.isascii() and value.isdigit():
        return {"pk": params.id_or_none(value) or 0}
    return {"slug": value}


def brand_members(brand_ids: Iterable[int]) -> QuerySet:
    """The people who work on any of ``brand_ids`` (each once), by username."""
    return (
        get_user_model().objects.filter(brand_memberships__brand_id__in=list(brand_ids)).distinct().order_by("username")
    )


def channels_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Channel]:
    return Channel.objects.filter(brand__in=brands_for_user(user))


def mentions_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Mention]:
    return Mention.objects.filter(brand__in=brands_for_user(user))


@dataclass(frozen=True)
class MentionFilters:
    """The filters the inbox, the API and the CSV export share. Empty values mean "any".

    ``assignee`` is "me", "none" or a user id; ``term`` a TrackedTerm id or a kind
    ("competitor" = any competitor); ``since``/``until`` bound ``published_at``, the platform's
    time, and ``stored_since``/``stored_until`` bound ``fetched_at``, when Escucha stored the
    mention (both ``until``s exclusive): an integration syncs on the latter, since a mention
    published long ago can be stored today (a backfill, a late webhook).
    """

    brand: int | None = None
    channel: int | None = None
    platform: str = ""
    sentiment: str = ""
    intent: str = ""
    status: str = ""
    language: str = ""
    assignee: str = ""
    term: str = ""
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None
    stored_since: datetime | None = None
    stored_until: datetime | None = None
    post: int | None = None

    @classmethod
    def from_params(cls, query: Mapping[str, str]) -> MentionFilters:
        """Filters from a query string, leniently: a value that does not parse is left out, so a
        stale shared link still opens. The API uses ``parse_mention_filters`` to report them."""
        return parse_mention_filters(query)[0]


def mentions_filtered(*, user: AbstractBaseUser, filters: MentionFilters) -> QuerySet[Mention]:
    """The user's visible mentions narrowed by ``filters``, newest first (published_at, id)."""
    # The brand ids as values, not a subquery: with ``brand_id = 7`` PostgreSQL walks the inbox
    # index (brand, -published_at, -id) and stops after one page; a semi-join sorts every row.
    brand_ids = brand_ids_for_user(user)
    if filters.brand:
        brand_ids = [pk for pk in brand_ids if pk == filters.brand]
    qs = Mention.objects.filter(brand_id__in=brand_ids)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.post:
        # Through publishing's link table (``publishing.PostComment``): one post's few comments.
        qs = qs.filter(post_comment__target__post_id=filters.post)
    if filters.platform:
        qs = qs.filter(channel__platform=filters.platform)
    if filters.sentiment:
        qs = qs.filter(sentiment=filters.sentiment)
    if filters.intent:
        qs = qs.filter(intent=filters.intent)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee_id := params.id_or_none(filters.assignee):
        qs = qs.filter(assignee_id=assignee_id)
    if term_id := params.id_or_none(filters.term):
        qs = qs.filter(terms__id=term_id)
    elif filters.term in TrackedTerm.Kind.values:
        # EXISTS rather than a join, so a mention matching two competitors is listed once.
        qs = qs.filter(
            Exists(Mention.terms.through.objects.filter(mention_id=OuterRef("pk"), trackedterm__kind=filters.term))
        )
    if filters.since:
        qs = qs.filter(published_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(published_at__lt=filters.until)
    if filters.stored_since:
        qs = qs.filter(fetched_at__gte=filters.stored_since)
    if filters.stored_until:
        qs = qs.filter(fetched_at__lt=filters.stored_until)
    if filters.q:
        qs = mentions_matching_text(qs, filters.q)
    return qs.order_by("-published_at", "-id")


class MentionTextVector(Func):
    """to_tsvector('simple', text): the very expression of the GIN index mention_text_fts_idx.

    Django's SearchVector wraps the column in COALESCE, which the index does not cover; this
    spelling matches the index so PostgreSQL uses it. 'simple' because mentions come in many
    languages and no one language's stemming fits them all.
    """

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("text"))


def mentions_matching_text(qs: QuerySet[Mention], q: str) -> QuerySet[Mention]:
    """Text search: every word must appear in the text.

    PostgreSQL: full-text search through the GIN index (whole words, any case). Elsewhere (the
    embedded SQLite) a substring match on text, title and author handle.
    """
    words = q.split()[:10]
    if not words:
        return qs
    if connection.vendor == "postgresql":
        query = SearchQuery(" ".join(words), config="simple", search_type="plain")
        return qs.alias(text_vector=MentionTextVector()).filter(text_vector=query)
    for word in words:
        qs = qs.filter(Q(text__icontains=word) | Q(title__icontains=word) | Q(author__handle__icontains=word))
    return qs


def _parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """``config.params.parse_moment``, with "today" kept relative: a saved view "Competitors
    today" is today's whenever it is opened."""
    if value == "today":
        value = timezone.localdate().isoformat()
    return params.parse_moment(value, end_of_day=end_of_day)


def parse_mention_filters(query: Mapping[str, str]) -> tuple[MentionFilters, dict[str, list[str]]]:
    """Read ``MentionFilters`` from query parameters; (filters, errors by parameter).

    One reader for the inbox's URL, the API and the CSV export, so a link means the same everywhere.
    A date without a time in ``until`` includes that whole day.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}

    def text(name: str) -> str:
        # Saved views and "next" links carry a query string inside a field, so a NUL can arrive
        # percent-encoded past the request's own cleaning: it is dropped here too.
        value = query.get(name, "")
        return params.without_nul(value).strip() if isinstance(value, str) else ""

    for name in ("brand", "channel", "post"):
        if value := text(name):
            try:
                values[name] = params.parse_id(value)
            except params.BadParam as error:
                errors[name] = [str(error)]
    for name, choices in (
        ("platform", Platform.values),
        ("sentiment", Sentiment.values),
        ("intent", Intent.values),
        ("status", Mention.Status.values),
    ):
        if value := text(name):
            if value in choices:
                values[name] = value
            else:
                errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]
    if value := text("assignee"):
        if value in ("me", "none") or params.id_or_none(value):
            values["assignee"] = value
        else:
            errors["assignee"] = [_("Use me, none or a user id.")]
    if value := text("term"):
        if params.id_or_none(value) or value in TrackedTerm.Kind.values:
            values["term"] = value
        else:
            errors["term"] = [
                _("Use a tracked term id or a kind (%(kinds)s).") % {"kinds": ", ".join(TrackedTerm.Kind.values)}
            ]
    if value := text("language"):
        values["language"] = value[:8].lower()
    if value := text("q"):
        values["q"] = value[:200]
    for name in ("since", "until", "stored_since", "stored_until"):
        if value := text(name):
            try:
                values[name] = _parse_moment(value, end_of_day=name.endswith("until"))
            except params.BadParam as error:
                errors[name] = [str(error)]
    return MentionFilters(**values), errors


def mention_thread(mention: Mention) -> tuple[Mention | None, list[Mention]]:
    """The post this mention answers (if we have it) and the other answers around it in the channel."""
    # Read here rather than joined to the mention page's own read of the mention: with the parent
    # and its author, that read joined ten tables and PostgreSQL spent ~8 ms planning it.
    parent = (
        Mention.objects.filter(pk=mention.parent_id).select_related("author").first() if mention.parent_id else None
    )
    if parent is None and mention.parent_external_id:
        parent = (
            Mention.objects.filter(channel_id=mention.channel_id, external_id=mention.parent_external_id)
            .select_related("author")
            .first()
        )
    around = [mention.external_id] + ([mention.parent_external_id] if mention.parent_external_id else [])
    others = (
        Mention.objects.filter(channel_id=mention.channel_id, parent_external_id__in=around)
        .exclude(pk=mention.pk)
        .select_related("author")
        .order_by("published_at", "id")[:50]
    )
    return parent, list(others)


def mention_reply_route(*, channel: Channel, external_id: str) -> tuple[str, str] | None:
    """(how the platform takes an answer to the stored item, the source it was found on), or None
    when the channel has no such item stored."""
    row = Mention.objects.filter(channel=channel, external_id=external_id).values_list("reply_route", "source")
    return row.first()


def channel_recent_threads(*, channel: Channel, since: datetime, limit: int = 500) -> dict[str, datetime]:
    """The conversations of ``channel`` that moved since ``since``: root item id → newest comment time.

    Whatever stored the comments tells: a poll that read them or a webhook that delivered them. A
    comment's root is the item it answers; a reply's is the item its parent comment answers.
    """
    root = Case(
        When(kind=Mention.Kind.COMMENT, then=F("parent_external_id")),
        When(kind=Mention.Kind.REPLY, then=F("parent__parent_external_id")),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Mention.objects.filter(
            channel=channel, published_at__gte=since, kind__in=[Mention.Kind.COMMENT, Mention.Kind.REPLY]
        )
        .annotate(root=root)
        .exclude(root="")
        .exclude(root__isnull=True)
        .values("root")
        .annotate(latest=Max("published_at"))
        .order_by("-latest")[:limit]
    )
    return {row["root"]: row["latest"] for row in rows}
