"""Load the demo: the Acme brand, its terms, departments, rules and one user per role.

Safe to run again: it finds what exists and changes nothing that a person edited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from config.roles import ADMIN, COMMUNITY_MANAGER, DEPARTMENT_STAFF, MANAGER
from listening.models import Brand, BrandMembership, Channel, Platform, TrackedTerm
from responses.models import Department, Priority, RoutingRule, SavedReply, SavedView, SlaPolicy
from sandbox import generator
from sandbox.models import SandboxPost

DEMO_PASSWORD = "escucha-demo"  # noqa: S105 - printed to the console on purpose; demo only

USERS = [
    # username, first name, role, department
    ("admin", "Ada", ADMIN, None),
    ("cm", "Carla", COMMUNITY_MANAGER, None),
    ("manager", "Marta", MANAGER, None),
    ("support", "Sergio", DEPARTMENT_STAFF, "Support"),
    ("billing", "Bruno", DEPARTMENT_STAFF, "Billing"),
    ("pr", "Paula", DEPARTMENT_STAFF, "Public relations"),
]

TERMS = [
    (TrackedTerm.Kind.BRAND, "Acme", ""),
    (TrackedTerm.Kind.BRAND, "@acme", "Acme"),
    (TrackedTerm.Kind.BRAND, "#acme", "Acme"),
    (TrackedTerm.Kind.PRODUCT, "Roadrunner Pro", ""),
    (TrackedTerm.Kind.CAMPAIGN, "#AcmeSummer", ""),
    (TrackedTerm.Kind.COMPETITOR, "Globex", ""),
    (TrackedTerm.Kind.COMPETITOR, "Initech", ""),
    (TrackedTerm.Kind.KEYWORD, "refund", ""),
    (TrackedTerm.Kind.KEYWORD, "reembolso", ""),
]

DEPARTMENTS = {
    # name: (e-mail, {priority: (acknowledge minutes, resolve minutes)})
    "Support": (
        "support@acme.example",
        {Priority.NORMAL: (60, 24 * 60), Priority.HIGH: (30, 8 * 60), Priority.URGENT: (15, 4 * 60)},
    ),
    "Billing": (
        "billing@acme.example",
        {Priority.NORMAL: (120, 48 * 60), Priority.HIGH: (60, 24 * 60), Priority.URGENT: (30, 8 * 60)},
    ),
    "Public relations": (
        "pr@acme.example",
        {Priority.NORMAL: (60, 24 * 60), Priority.HIGH: (30, 4 * 60), Priority.URGENT: (10, 2 * 60)},
    ),
}

# Complaints are found by intent, not by a sentiment threshold: most of them use no angry word
# ("support chat has been 'connecting' for 40 minutes. Anyone there?").
RULES = [
    {
        "name": "Billing complaints go to Billing",
        "match": RoutingRule.Match.ALL,
        "conditions": [
            {"field": "intent", "op": "in", "value": ["complaint"]},
            {
                "field": "text",
                "op": "any",
                "value": ["refund", "charged", "charge", "invoice", "reembolso", "cobro", "factura"],
            },
        ],
        "actions": [{"type": "ticket", "department": "Billing", "priority": Priority.HIGH}],
        "stop_processing": True,
    },
    {
        "name": "Influential complaints to Public relations",
        "match": RoutingRule.Match.ALL,
        "conditions": [
            {"field": "intent", "op": "in", "value": ["complaint"]},
            {"field": "followers", "op": "above", "value": 10000},
        ],
        "actions": [{"type": "ticket", "department": "Public relations", "priority": Priority.URGENT}],
        "stop_processing": True,
    },
    {
        "name": "Other complaints to Support",
        "match": RoutingRule.Match.ALL,
        "conditions": [{"field": "intent", "op": "in", "value": ["complaint"]}],
        "actions": [{"type": "ticket", "department": "Support", "priority": Priority.NORMAL}],
        "stop_processing": True,
    },
    {
        "name": "Questions tagged for the FAQ",
        "match": RoutingRule.Match.ALL,
        "conditions": [{"field": "intent", "op": "in", "value": ["question"]}],
        "actions": [{"type": "tag", "tag": "question"}],
        "stop_processing": False,
    },
]

# Inbox views shared with the brand; "today" in a filter is relative, so the view stays current.
SAVED_VIEWS = [
    ("Negative, unassigned", "sentiment=negative&assignee=none"),
    ("Complaints, unassigned", "intent=complaint&assignee=none"),
    ("Competitors today", "term=competitor&since=today"),
]

SAVED_REPLIES = [
    ("thanks", "Thank you", "Thank you, {{ author.name }}! The whole {{ brand.name }} team is glad to hear it."),
    (
        "dm",
        "Ask for a DM",
        "Hi {{ author.handle }}, sorry about this. Could you send us a DM with your order number? — {{ agent.first_name }}",
    ),
    ("gracias", "Gracias", "¡Gracias, {{ author.name }}! Nos alegra mucho leerlo. — Equipo {{ brand.name }}"),
    (
        "dm-es",
        "Pedir DM",
        "Hola {{ author.handle }}, lamentamos lo ocurrido. ¿Nos escribes por DM con tu número de pedido? — {{ agent.first_name }}",
    ),
]


class Command(BaseCommand):
    help = "Load the Acme demo brand with terms, departments, routing rules and a user for each role."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            brand, _ = Brand.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
            for kind, text, group in TERMS:
                TrackedTerm.objects.get_or_create(brand=brand, kind=kind, text=text, defaults={"group": group})
            departments = {}
            for name, (email, slas) in DEPARTMENTS.items():
                department, _ = Department.objects.get_or_create(brand=brand, name=name, defaults={"email": email})
                departments[name] = department
                for priority, (ack, resolve) in slas.items():
                    SlaPolicy.objects.get_or_create(
                        department=department,
                        priority=priority,
                        defaults={"acknowledge_minutes": ack, "resolve_minutes": resolve},
                    )
            created_users = self._users(brand, departments)
            for position, rule in enumerate(RULES):
                RoutingRule.objects.get_or_create(
                    brand=brand,
                    name=rule["name"],
                    defaults={**{k: v for k, v in rule.items() if k != "name"}, "position": position},
                )
            cm = get_user_model().objects.get(username="cm")
            for name, query in SAVED_VIEWS:
                SavedView.objects.get_or_create(
                    user=cm, name=name, defaults={"brand": brand, "query": query, "shared": True}
                )
            for shortcut, title, body in SAVED_REPLIES:
                SavedReply.objects.get_or_create(
                    brand=brand, shortcut=shortcut, defaults={"title": title, "body": body}
                )
        if settings.SANDBOX_ENABLED:
            channels, seeded = _demo_channels(brand)
            _demo_competitors(brand)
            self.stdout.write(
                f"Demo channels on the local sandbox: {', '.join(channels)}"
                + (f" (seeded {seeded} items from the last 7 days)." if seeded else ".")
            )
        self.stdout.write(self.style.SUCCESS("Demo brand Acme is ready."))
        if created_users:
            self.stdout.write(f"Created users (password '{DEMO_PASSWORD}'): {', '.join(created_users)}")
        self.stdout.write(
            f"Log in as admin / {DEMO_PASSWORD} (or cm, manager, support, billing, pr with the same password)."
        )

    def _users(self, brand: Brand, departments: dict[str, Department]) -> list[str]:
        User = get_user_model()
        created = []
        for username, first_name, role, department in USERS:
            user, was_created = User.objects.get_or_create(
                username=username, defaults={"first_name": first_name, "email": f"{username}@acme.example"}
            )
            if was_created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = user.is_superuser = role == ADMIN
                user.save()
                user.groups.add(Group.objects.get(name=role))
                created.append(username)
            BrandMembership.objects.get_or_create(brand=brand, user=user)
            if department:
                departments[department].members.add(user)
        return created


# --- Demo channels on the local sandbox -----------------------------------------------------------
SEED_ITEMS = 60


def _demo_channels(brand: Brand) -> tuple[list[str], int]:
    """Acme's six channels, pointed at the sandbox under SITE_URL, and a first week of items.

    Idempotent: a channel found by brand and name is left as it is (a person may have edited it);
    the sandbox is seeded only while it is empty.
    """
    sandbox = f"{settings.SITE_URL}/sandbox"
    specs = [
        (
            "Acme on X (sandbox)",
            Platform.X,
            f"{sandbox}/x",
            {
                "user_id": generator.X_BRAND_USER_ID,
                "search_query": '(Acme OR #acme OR "Roadrunner Pro" OR #AcmeSummer) -is:retweet',
            },
            {
                "bearer_token": "sandbox-bearer",
                "consumer_key": "sandbox-key",
                "consumer_secret": "sandbox-secret",
                "access_token": "sandbox-token",
                "access_token_secret": "sandbox-token-secret",
            },
        ),
        (
            "Acme Facebook Page (sandbox)",
            Platform.FACEBOOK,
            f"{sandbox}/facebook",
            {"page_id": generator.PAGE_ID, "page_name": generator.PAGE_NAME, "graph_version": "v21.0"},
            {
                "page_access_token": "sandbox-page-token",
                "app_secret": "sandbox-app-secret",
                "verify_token": "sandbox-verify",
            },
        ),
        (
            "Acme on Instagram (sandbox)",
            Platform.INSTAGRAM,
            f"{sandbox}/instagram",
            {"ig_user_id": generator.IG_USER_ID, "graph_version": "v21.0", "hashtags": [generator.IG_HASHTAG]},
            {
                "page_access_token": "sandbox-page-token",
                "app_secret": "sandbox-app-secret",
                "verify_token": "sandbox-verify",
            },
        ),
        (
            "Acme YouTube (sandbox)",
            Platform.YOUTUBE,
            f"{sandbox}/youtube",
            {"channel_id": generator.YOUTUBE_CHANNEL_ID},
            {
                "api_key": "sandbox-key",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-client-secret",
                "refresh_token": "sandbox-refresh",
            },
        ),
        (
            "Acme on LinkedIn (sandbox)",
            Platform.LINKEDIN,
            f"{sandbox}/linkedin",
            {"organization_id": generator.LI_ORG_ID, "linkedin_version": "202610"},
            {
                "access_token": "sandbox-li-token",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-client-secret",
                "refresh_token": "sandbox-li-refresh",
            },
        ),
        ("Acme news and forums (sandbox)", Platform.FEED, f"{sandbox}/feed/rss.xml", {}, {}),
    ]
    names = []
    for name, platform, base_url, channel_settings, credentials in specs:
        channel, created = Channel.objects.get_or_create(
            brand=brand,
            name=name,
            defaults={
                "platform": platform,
                "api_base_url": base_url,
                "settings": channel_settings,
                "credentials": credentials,
                "poll_interval_seconds": 15,
            },
        )
        # Served on another port this time (make run PORT=…): follow it, if the URL is still the sandbox's.
        if not created and channel.api_base_url != base_url:
            if urlsplit(channel.api_base_url).path == urlsplit(base_url).path:
                channel.api_base_url = base_url
                channel.save(update_fields=["api_base_url"])
        names.append(name)
    seeded = 0
    if not SandboxPost.objects.exists():
        posts = generator.generate(SEED_ITEMS, spread=timedelta(days=7))
        # Every demo channel has something to show: drawn by weight, the least likely platform is
        # left out of one seeding in a few hundred.
        for platform in generator.PLATFORM_WEIGHTS.keys() - {post.platform for post in posts}:
            posts += generator.generate(2, spread=timedelta(days=7), platform=platform)
        seeded = len(posts)
    return names, seeded


# The competitors' public accounts on the sandbox (``sandbox.competitors``), read for the report.
COMPETITOR_ACCOUNTS = [
    ("Globex", "x", "globex"),
    ("Globex", "facebook", "globexcorp"),
    ("Initech", "x", "initech"),
    ("Initech", "facebook", "initech"),
]


def _demo_competitors(brand: Brand) -> None:
    from publishing.models import CompetitorAccount

    for competitor, platform, handle in COMPETITOR_ACCOUNTS:
        CompetitorAccount.objects.get_or_create(
            brand=brand, platform=platform, handle=handle, defaults={"competitor": competitor}
        )
