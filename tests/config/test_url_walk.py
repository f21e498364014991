"""Every URL pattern of the project, opened by each kind of person, answers what the table says.

The patterns come from the root URLconf itself, so a new URL fails this test until it has a row:
whoever adds a page decides, here, who may open it. Path parameters are filled with real objects
of the brand Acme (a mention routed to Billing, its author, ticket and reply, a rule, channels),
so the outsider — the community manager of another brand — asks for objects that exist but are
not theirs, and must get what a missing object gets.

Columns: anonymous, outsider (another brand's community manager), department staff (Billing),
manager, community manager. A cell is a status or a tuple of accepted statuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from listening.models import Platform
from publishing.models import Post, PostTarget
from responses.models import Notification, Reply, SavedView
from tests.factories import (
    ChannelFactory,
    MentionFactory,
    ReplyFactory,
    RoutingRuleFactory,
    SavedReplyFactory,
    TicketFactory,
)

ROLES = ("anonymous", "outsider", "staff", "manager", "cm")


@dataclass
class World:
    """The objects of brand Acme whose ids fill the path parameters."""

    brand: Any
    channel: Any
    facebook: Any
    mention: Any
    ticket: Any
    reply: Any
    rule: Any
    department: Any
    users: dict[str, Any]
    clients: dict[str, Client] = field(default_factory=dict)
    saved_view: Any = None  # the community manager's own
    saved_reply: Any = None
    post: Any = None  # a draft for X, written by the community manager


@dataclass(frozen=True)
class Row:
    expect: tuple[Any, Any, Any, Any, Any]  # one cell per ROLES
    method: str = "get"
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    query: Callable[[World], str] = lambda w: ""
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    json: bool = False


def everyone(status: Any) -> tuple[Any, Any, Any, Any, Any]:
    return (status, status, status, status, status)


def ui(outsider: Any, staff: Any, manager: Any, cm: Any) -> tuple[Any, Any, Any, Any, Any]:
    """A page behind login: the anonymous visitor is sent to the login page."""
    return (302, outsider, staff, manager, cm)


def api(outsider: Any, staff: Any, manager: Any, cm: Any) -> tuple[Any, Any, Any, Any, Any]:
    """An API endpoint: without a session or token, 401."""
    return (401, outsider, staff, manager, cm)


def pk(name: str, key: str = "pk") -> Callable[[World], dict[str, Any]]:
    return lambda w: {key: getattr(w, name).pk}


ACME = lambda w: {"slug": w.brand.slug}  # noqa: E731
BRAND_QUERY = lambda w: f"brand={w.brand.pk}"  # noqa: E731

TABLE: dict[str, Row] = {
    # --- config: the entrance, accounts, language, health ------------------------------------------
    "home": Row(ui(302, 302, 302, 302)),
    "healthz": Row(everyone((200, 503))),
    "login": Row(everyone(200)),
    "logout": Row(ui(405, 405, 405, 405)),  # POST only
    "password_change": Row(ui(200, 200, 200, 200)),
    "password_change_done": Row(ui(200, 200, 200, 200)),
    "password_reset": Row(everyone(200)),
    "password_reset_done": Row(everyone(200)),
    "password_reset_confirm": Row(everyone(200), params=lambda w: {"uidb64": "MQ", "token": "set-password"}),
    "password_reset_complete": Row(everyone(200)),
    "set_language": Row(ui(302, 302, 302, 302), method="post", data=lambda w: {"language": "es"}),
    # The Django admin is for staff accounts (is_staff); none of the roles has one.
    "admin:login": Row(everyone(200)),
    "admin:logout": Row(everyone(302)),
    "admin:*": Row(everyone(302)),
    # --- the API --------------------------------------------------------------------------------
    "api-schema": Row(api(200, 200, 200, 200)),
    "api-docs": Row(ui(200, 200, 200, 200)),
    "api-root": Row(api(200, 200, 200, 200)),
    "brand-list": Row(api(200, 403, 200, 200)),
    "brand-detail": Row(api(404, 403, 200, 200), params=pk("brand")),
    "brand-users": Row(api(404, 403, 200, 200), params=pk("brand")),
    "channel-list": Row(api(200, 403, 200, 200)),
    "channel-detail": Row(api(404, 403, 200, 200), params=pk("channel")),
    "mention-list": Row(api(200, 403, 200, 200)),
    "mention-detail": Row(api(404, 403, 200, 200), params=pk("mention")),
    # The walk's mention is not a comment on Instagram or Facebook: the community manager is told so.
    "mention-moderate": Row(
        api(404, 403, 403, 400), method="post", params=pk("mention"), data=lambda w: {"action": "hide"}, json=True
    ),
    "mention-replies-list": Row(
        api(404, 403, 403, 202),
        method="post",
        params=pk("mention", "mention_id"),
        data=lambda w: {"text": "Hi"},
        json=True,
    ),
    "department-list": Row(api(200, 403, 200, 200)),
    "department-detail": Row(api(404, 403, 200, 200), params=pk("department")),
    "routing-rule-list": Row(api(200, 403, 200, 200)),
    "routing-rule-detail": Row(api(404, 403, 200, 200), params=pk("rule")),
    "ticket-list": Row(api(200, 200, 200, 200)),
    "ticket-detail": Row(api(404, 200, 200, 200), params=pk("ticket")),
    "ticket-notes": Row(api(404, 200, 200, 200), params=pk("ticket")),
    "reply-detail": Row(api(404, 200, 200, 200), params=pk("reply")),
    "post-list": Row(api(200, 403, 200, 200)),
    "post-detail": Row(api(404, 403, 200, 200), params=pk("post")),
    # Actions: another brand's post is not found; a draft cannot be approved by its author (400).
    "post-submit": Row(api(404, 403, 403, 200), method="post", params=pk("post")),
    "post-approve": Row(api(404, 403, 403, 400), method="post", params=pk("post")),
    "post-request-changes": Row(api(404, 403, 403, 400), method="post", params=pk("post")),
    "post-reject": Row(api(404, 403, 403, 400), method="post", params=pk("post")),
    "post-schedule": Row(api(404, 403, 403, 400), method="post", params=pk("post")),
    # A person's data is the Admin role's alone (the permission to handle personal data).
    "person-list": Row(api(403, 403, 403, 403), query=lambda w: "q=a"),
    "person-export": Row(api(403, 403, 403, 403), params=lambda w: {"pk": w.mention.author_id}),
    "person-erase": Row(api(403, 403, 403, 403), method="post", params=lambda w: {"pk": w.mention.author_id}),
    # Another brand named in a parameter is a bad value, like a malformed one.
    "report-summary-list": Row(api(400, 403, 200, 200), query=BRAND_QUERY),
    # --- listening: channels, terms, the webhook -------------------------------------------------
    "listening:channel_list": Row(ui(200, 403, 403, 200)),
    "listening:channel_edit": Row(ui(404, 403, 403, 200), params=pk("channel")),
    "listening:channel_poll_now": Row(ui(404, 403, 403, 302), method="post", params=pk("channel")),
    "listening:channel_create": Row(ui(404, 403, 403, 200), params=lambda w: {"slug": w.brand.slug, "platform": "x"}),
    "listening:term_list": Row(ui(404, 403, 403, 200), params=ACME),
    "listening:privacy": Row(ui(403, 403, 403, 403), query=lambda w: "q=a"),
    "listening:privacy_person": Row(ui(403, 403, 403, 403), params=lambda w: {"pk": w.mention.author_id}),
    "listening:privacy_person_export": Row(
        ui(403, 403, 403, 403), method="post", params=lambda w: {"pk": w.mention.author_id}
    ),
    "listening:privacy_log": Row(ui(403, 403, 403, 403)),
    "listening:privacy_retention": Row(ui(403, 403, 403, 403)),
    # Platforms prove themselves with a token or a signature, never with a session.
    "listening:facebook_webhook": Row(everyone(403), params=pk("facebook", "channel_id")),
    "listening:instagram_webhook": Row(everyone(403), params=pk("instagram", "channel_id")),
    # --- responses: the inbox, mentions, replies, tickets, rules, notifications ----------------------
    "responses:inbox": Row(ui(200, 403, 403, 200)),
    "responses:inbox_new": Row(ui(200, 403, 403, 200)),
    "responses:inbox_bulk": Row(
        ui(302, 403, 403, 302), method="post", data=lambda w: {"ids": [w.mention.pk], "action": "close"}
    ),
    "responses:saved_view_create": Row(ui(302, 403, 403, 302), method="post", data=lambda w: {"name": "Mine"}),
    # An undo without a valid token goes back to the inbox with the error.
    "responses:inbox_undo": Row(ui(302, 403, 403, 302), method="post", data=lambda w: {"token": "forged"}),
    # Saved views: each person changes only their own; a colleague's is not found.
    "responses:saved_view_list": Row(ui(200, 403, 403, 200)),
    "responses:saved_view_edit": Row(
        ui(404, 403, 403, 302),
        method="post",
        params=pk("saved_view"),
        data=lambda w: {f"view-{w.saved_view.pk}-name": "Renamed"},
    ),
    "responses:saved_view_move": Row(
        ui(404, 403, 403, 302), method="post", params=pk("saved_view"), data=lambda w: {"direction": "up"}
    ),
    "responses:saved_view_delete": Row(ui(404, 403, 403, 302), method="post", params=pk("saved_view")),
    # Saved replies: the community managers of the brand (another brand's is not found).
    "responses:saved_reply_list": Row(ui(200, 403, 403, 200)),
    "responses:saved_reply_create": Row(ui(200, 403, 403, 200)),
    "responses:saved_reply_edit": Row(ui(404, 403, 403, 200), params=pk("saved_reply")),
    "responses:saved_reply_delete": Row(ui(404, 403, 403, 302), method="post", params=pk("saved_reply")),
    "responses:mention_detail": Row(ui(404, 200, 200, 200), params=pk("mention")),
    "responses:mention_presence": Row(ui(404, 200, 200, 200), method="post", params=pk("mention")),
    "responses:mention_update": Row(
        ui(404, 403, 403, 302),
        method="post",
        params=pk("mention"),
        data=lambda w: {"field": "status", "value": "closed"},
    ),
    "responses:reply_list": Row(ui(404, 200, 200, 200), params=pk("mention")),
    "responses:mention_live": Row(ui(404, 200, 200, 200), params=pk("mention")),
    # Opening a ticket is the community manager's: department staff and managers do not route.
    "responses:mention_open_ticket": Row(
        ui(404, 403, 403, 302), method="post", params=pk("mention"), data=lambda w: {"department": w.department.pk}
    ),
    # Hiding and deleting on the platform is the community manager's (an X mention: refused, said why).
    "responses:mention_moderate": Row(
        ui(404, 403, 403, 302), method="post", params=pk("mention"), data=lambda w: {"action": "hide"}
    ),
    "responses:reply_send": Row(
        ui(404, 403, 403, 302), method="post", params=pk("mention"), data=lambda w: {"text": "Hi", "confirm": "1"}
    ),
    "responses:author_detail": Row(ui(404, 200, 200, 200), params=lambda w: {"pk": w.mention.author_id}),
    "responses:pending_replies": Row(ui(200, 403, 403, 200)),
    "responses:reply_approve": Row(ui(404, 403, 403, 302), method="post", params=pk("reply")),
    "responses:reply_reject": Row(ui(404, 403, 403, 302), method="post", params=pk("reply")),
    "responses:reply_retry": Row(ui(404, 403, 403, 302), method="post", params=pk("reply")),
    "responses:ticket_list": Row(ui(200, 200, 200, 200)),
    "responses:ticket_detail": Row(ui(404, 200, 200, 200), params=pk("ticket")),
    "responses:ticket_live": Row(ui(404, 200, 200, 200), params=pk("ticket")),
    "responses:ticket_status": Row(
        ui(404, 302, 403, 302), method="post", params=pk("ticket"), data=lambda w: {"status": "acknowledged"}
    ),
    # The community manager is not in Billing, so cannot take its ticket.
    "responses:ticket_assign": Row(
        ui(404, 302, 403, 400), method="post", params=pk("ticket"), data=lambda w: {"assignee": "me"}
    ),
    "responses:ticket_note": Row(
        ui(404, 302, 403, 302), method="post", params=pk("ticket"), data=lambda w: {"body": "Called them"}
    ),
    "responses:follow_up": Row(ui(200, 403, 403, 200)),
    "responses:notification_list": Row(ui(200, 200, 200, 200)),
    "responses:notification_read": Row(ui(302, 302, 302, 302), method="post"),
    "responses:rule_list": Row(ui(200, 403, 403, 200)),
    "responses:rule_create": Row(ui(200, 403, 403, 200)),
    "responses:rule_edit": Row(ui(404, 403, 403, 200), params=pk("rule")),
    "responses:rule_preview": Row(ui(404, 403, 403, 200), method="post", data=lambda w: {"rule": w.rule.pk}),
    "responses:rule_move": Row(
        ui(404, 403, 403, 302), method="post", params=pk("rule"), data=lambda w: {"direction": "up"}
    ),
    "responses:rule_toggle": Row(ui(404, 403, 403, 302), method="post", params=pk("rule")),
    "responses:rule_delete": Row(ui(404, 403, 403, 302), method="post", params=pk("rule")),
    # --- publishing ------------------------------------------------------------------------------
    "publishing:post_list": Row(ui(404, 403, 200, 200), query=BRAND_QUERY),
    "publishing:post_create": Row(ui(404, 403, 403, 200), query=BRAND_QUERY),
    "publishing:post_calendar": Row(ui(404, 403, 200, 200), query=BRAND_QUERY),
    "publishing:post_calendar_ical": Row(ui(404, 403, 200, 200), query=BRAND_QUERY),
    "publishing:post_detail": Row(ui(404, 403, 200, 200), params=lambda w: {"pk": w.post.pk}),
    "publishing:post_edit": Row(ui(404, 403, 403, 200), params=lambda w: {"pk": w.post.pk}),
    "publishing:post_submit": Row(ui(404, 403, 403, 302), method="post", params=lambda w: {"pk": w.post.pk}),
    "publishing:post_decide": Row(ui(404, 403, 403, 302), method="post", params=lambda w: {"pk": w.post.pk}),
    "publishing:post_schedule": Row(ui(404, 403, 403, 302), method="post", params=lambda w: {"pk": w.post.pk}),
    # The calendar's drag and drop; a person's own subscription address (made for whoever asks,
    # brand or not); the subscription feed itself, open, a 404 without a valid token.
    "publishing:post_move": Row(
        ui(404, 403, 403, 302), method="post", params=lambda w: {"pk": w.post.pk}, data=lambda w: {"date": "2030-01-02"}
    ),
    "publishing:calendar_subscription": Row(ui(200, 403, 200, 200), method="post", data=lambda w: {"action": "create"}),
    "publishing:competitor_accounts": Row(ui(404, 403, 403, 200), query=BRAND_QUERY),
    "publishing:calendar_feed": Row(everyone(404), params=lambda w: {"token": "not-a-token"}),
    "publishing:target_retry": Row(
        ui(404, 403, 403, 302), method="post", params=lambda w: {"pk": w.post.targets.get().pk}
    ),
    # --- reports --------------------------------------------------------------------------------
    "reports:report": Row(ui(404, 403, 200, 200), query=BRAND_QUERY),
    # Asked for, the PDF is being prepared (202); see tests/reports/test_report_pdf.py.
    "reports:report_pdf": Row(ui(404, 403, 202, 202), query=BRAND_QUERY),
    "reports:subscribe": Row(ui(404, 403, 302, 302), method="post", data=lambda w: {"brand": w.brand.pk}),
    "reports:export_table": Row(ui(404, 403, 200, 200), params=lambda w: {"name": "volume"}, query=BRAND_QUERY),
    "reports:export_mentions": Row(ui(200, 403, 403, 200)),
    # --- the platforms' emulator (demo and tests only): open, like the platforms it stands for -----
    # Without the parameters or the credentials a platform asks for, it says so (400/403); a session
    # changes nothing.
    "sandbox:x_mentions": Row(everyone(200), params=lambda w: {"user_id": "1"}),
    "sandbox:x_user_tweets": Row(everyone(200), params=lambda w: {"user_id": "1"}),
    "sandbox:x_user_by_username": Row(everyone(200), params=lambda w: {"username": "globex"}),
    "sandbox:x_search": Row(everyone(400)),
    "sandbox:x_tweets": Row(everyone(400)),  # GET needs the posts' ids; POST posts
    "sandbox:graph_objects": Row(everyone(400), params=lambda w: {"version": "v21.0"}),  # ids needed
    "sandbox:published": Row(everyone(200)),  # what Escucha published there
    "sandbox:x_compliance_jobs": Row(everyone(405)),  # POST only: a new job
    "sandbox:x_compliance_job": Row(everyone(404), params=lambda w: {"job_id": "1"}),  # no such job
    "sandbox:x_compliance_upload": Row(everyone(403), params=lambda w: {"job_id": "1"}),  # PUT to a job's URL only
    "sandbox:x_compliance_results": Row(everyone(404), params=lambda w: {"job_id": "1"}),
    "sandbox:graph_object": Row(everyone(400), params=lambda w: {"version": "v21.0", "object_id": "1"}),  # gone
    "sandbox:instagram_node": Row(everyone(400), params=lambda w: {"version": "v21.0", "object_id": "1"}),
    "sandbox:graph_edge": Row(everyone(400), params=lambda w: {"version": "v21.0", "object_id": "1", "edge": "feed"}),
    "sandbox:instagram_edge": Row(
        everyone(400), params=lambda w: {"version": "v21.0", "object_id": "1", "edge": "feed"}
    ),
    # LinkedIn answers 426 to a call without the LinkedIn-Version header
    "sandbox:linkedin_posts": Row(everyone(426)),
    "sandbox:linkedin_post": Row(everyone(426), params=lambda w: {"urn": "urn:li:share:1"}),
    "sandbox:linkedin_comments": Row(everyone(426), params=lambda w: {"urn": "urn:li:share:1"}),
    "sandbox:linkedin_notifications": Row(everyone(426)),
    "sandbox:linkedin_social_metadata": Row(everyone(426), params=lambda w: {"urn": "urn:li:share:1"}),
    "sandbox:linkedin_share_statistics": Row(everyone(426)),
    "sandbox:linkedin_token": Row(everyone(400), method="post"),
    "sandbox:youtube_comment_threads": Row(everyone(403)),
    "sandbox:youtube_videos": Row(everyone(403)),  # an API key is needed
    "sandbox:youtube_comments": Row(everyone(403)),  # an API key is needed to list, OAuth to reply
    "sandbox:youtube_token": Row(everyone(400), method="post"),
    "sandbox:feed_rss": Row(everyone(200)),
}

# Values for the admin's own parameters (its patterns are Django's, with no object of ours behind them).
ADMIN_PARAMS = {"id": "1", "object_id": "1", "app_label": "listening", "content_type_id": "1", "url": "nothing-here/"}
FORMAT_SUFFIX = {"format": "json"}


@dataclass(frozen=True)
class Pattern:
    key: str  # the table's key: namespace:name, or "admin:*" for the rest of the admin
    route: str  # the pattern's route from the root, as the resolver holds it
    callback: Callable[..., Any] = field(compare=False)


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            key = (
                name
                if name in TABLE
                else "admin:*"
                if prefix.startswith("admin/")
                else name or prefix + str(entry.pattern)
            )
            yield Pattern(key, prefix + str(entry.pattern), entry.callback)


PATTERNS = list(url_patterns())


def fill(route: str, values: dict[str, Any]) -> str:
    """A concrete path for a route written as path() converters, a regex, or both (DRF's routes)."""

    def value(name: str) -> str:
        return str(values[name])

    # DRF's format suffix converter includes its dot: /api/v1/.json
    path = route.replace("<drf_format_suffix:format>", "." + value("format"))
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), path)
    path = path.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    return "/" + path


def test_every_pattern_has_a_row() -> None:
    missing = sorted({p.key for p in PATTERNS} - set(TABLE))
    assert not missing, f"add these URL patterns to TABLE: {missing}"
    unused = sorted(set(TABLE) - {p.key for p in PATTERNS})
    assert not unused, f"these rows match no URL pattern any more: {unused}"


@pytest.fixture
def world(team) -> World:
    channel = ChannelFactory(brand=team.brand, name="Acme on X", settings={"user_id": "1"})
    facebook = ChannelFactory(
        brand=team.brand, platform=Platform.FACEBOOK, credentials={"app_secret": "s", "verify_token": "v"}
    )
    mention = MentionFactory(channel=channel, text="my bill came twice")
    ticket = TicketFactory(mention=mention, department=team.billing)
    reply = ReplyFactory(mention=mention, status=Reply.Status.SENT, author=team.cm)
    rule = RoutingRuleFactory(
        brand=team.brand,
        conditions=[{"field": "text", "op": "any", "value": ["bill"]}],
        actions=[{"type": "ticket", "department": team.billing.pk, "priority": "normal"}],
    )
    RoutingRuleFactory(brand=team.brand, conditions=rule.conditions, actions=[{"type": "spam"}])
    for user in (team.cm, team.billing_member, team.manager, team.outsider):
        Notification.objects.create(user=user, verb="test", message="Hello", url="/")
    users = {"outsider": team.outsider, "staff": team.billing_member, "manager": team.manager, "cm": team.cm}
    clients = {"anonymous": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    world = World(team.brand, channel, facebook, mention, ticket, reply, rule, team.billing, users, clients)
    world.instagram = ChannelFactory(
        brand=team.brand, platform=Platform.INSTAGRAM, credentials={"app_secret": "s", "verify_token": "v"}
    )
    world.saved_view = SavedView.objects.create(
        user=team.cm, brand=team.brand, name="Angry", query="sentiment=negative"
    )
    world.saved_reply = SavedReplyFactory(brand=team.brand, shortcut="thanks")
    world.post = Post.objects.create(brand=team.brand, author=team.cm, text="Summer")
    PostTarget.objects.create(post=world.post, channel=channel, text="Summer")
    return world


def check(world: World, pattern: Pattern) -> None:
    row = TABLE.get(pattern.key)
    if row is None:
        pytest.fail(f"{pattern.key} has no row in TABLE")
    values = {**ADMIN_PARAMS, **FORMAT_SUFFIX, **row.params(world)}
    path = fill(pattern.route, values)
    assert resolve(path).func == pattern.callback, f"{path} does not reach {pattern.key}"
    query = row.query(world)
    url = f"{path}?{query}" if query else path
    got = {}
    for role, client in world.clients.items():
        # Each role starts from the same objects: what one role's request changed is undone.
        with transaction.atomic():
            if row.json:
                response = getattr(client, row.method)(url, row.data(world), content_type="application/json")
            else:
                response = getattr(client, row.method)(url, row.data(world))
            transaction.set_rollback(True)
        got[role] = response.status_code
    expected = dict(zip(ROLES, row.expect, strict=True))
    wrong = {
        role: (got[role], want)
        for role, want in expected.items()
        if got[role] not in (want if isinstance(want, tuple) else (want,))
    }
    assert not wrong, f"{row.method.upper()} {url}: (got, expected) by role: {wrong}"


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.key != "admin:*"], ids=lambda p: p.route or "/")
def test_each_role_gets_what_the_table_says(world: World, pattern: Pattern) -> None:
    check(world, pattern)


def test_the_admin_is_for_staff_accounts_only(world: World) -> None:
    """Django's own admin pages (over a hundred patterns), walked in one test to keep the suite quick."""
    admin = [p for p in PATTERNS if p.key == "admin:*"]
    assert len(admin) > 50
    for pattern in admin:
        check(world, pattern)
