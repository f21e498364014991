"""Keeps the sandbox platforms talking about Acme: praise, complaints, questions and comparisons,
in English and Spanish, some as replies in threads, from people with few or many followers.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sandbox.models import SandboxPost

# The demo brand's accounts on the sandbox platforms (demo_setup points its channels at them).
X_BRAND_USER_ID = "1500000000000000001"
X_BRAND_HANDLE = "acme"
PAGE_ID = "104857600000001"
PAGE_NAME = "Acme"
YOUTUBE_CHANNEL_ID = "UCacme0demo0channel000001"
VIDEOS = [
    ("dQacmeRR001", "Roadrunner Pro — unboxing and first run"),
    ("dQacmeRR002", "#AcmeSummer: 5 trips with the Roadrunner Pro"),
    ("dQacmeRR003", "Acme support: resetting your Roadrunner Pro"),
]
FEED_SITES = [
    ("https://forum.gadgets.example", "Gadgets Forum"),
    ("https://news.techpress.example", "TechPress News"),
    ("https://blog.ruta.example", "Blog de Ruta"),
]
TWITTER_EPOCH_MS = 1288834974657


@dataclass(frozen=True)
class Persona:
    id: str
    handle: str
    name: str
    followers: int
    verified: bool = False
    lang: str = "en"


PERSONAS = [
    Persona("2244994945", "lucia_viaja", "Lucía Fernández", 1840, lang="es"),
    Persona("3355001122", "mike_rides", "Mike O'Brien", 312),
    Persona("4455667788", "techreviewdaily", "Tech Review Daily", 245000, verified=True),
    Persona("5566778899", "dani.mx", "Daniela Ruiz", 96, lang="es"),
    Persona("6677889900", "sam_k", "Sam Kowalski", 2210),
    Persona("7788990011", "elena_gadgets", "Elena Gadgets ✨", 58300, verified=True, lang="es"),
    Persona("8899001122", "jpark", "Jin Park", 740),
    Persona("9900112233", "carlos_b", "Carlos Benítez", 13, lang="es"),
    Persona("1122334455", "outdoor_anna", "Anna Lindqvist", 15400),
    Persona("1230984567", "paco_runner", "Paco Martín 🏃", 520, lang="es"),
    Persona("2340987654", "ravi_dev", "Ravi Shah", 89),
    Persona("3450986543", "noticias_tec", "Noticias Tec", 120500, verified=True, lang="es"),
]

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "praise": {
        "en": [
            "Just got my Roadrunner Pro from @acme and wow, setup took two minutes 😍 #acme",
            "Huge thanks to Acme support, they sorted my order in one message. Best service ever 🙌",
            "Three weeks with the Roadrunner Pro and the battery still lasts all day. Love it! #AcmeSummer",
            "@acme your new app update is brilliant, so much faster 🚀",
        ],
        "es": [
            "¡Me encanta mi Roadrunner Pro de @acme! La batería dura todo el día 😍",
            "Gracias al equipo de Acme por la atención, resolvieron todo en minutos 🙌 #acme",
            "Probando el Roadrunner Pro en la playa #AcmeSummer ☀️ ¡increíble!",
        ],
    },
    "billing": {
        "en": [
            "@acme I was charged twice for my Roadrunner Pro order and nobody answers. I want a refund now 😡",
            "Still waiting on my refund from Acme, it's been 3 weeks. This is ridiculous.",
            "@acme why is there a second charge on my card? Order #48213. Please fix this.",
            "Acme billing is a mess: wrong invoice again and no refund in sight #acme",
        ],
        "es": [
            "@acme me hicieron un cobro doble por el Roadrunner Pro y nadie responde 😡 quiero mi reembolso",
            "Llevo 3 semanas esperando el reembolso de Acme. Pésimo servicio.",
            "@acme la factura está mal otra vez, ¿me pueden ayudar? Pedido 55102",
        ],
    },
    "delivery": {
        "en": [
            "@acme my Roadrunner Pro was supposed to arrive Monday, tracking hasn't moved in 5 days 📦",
            "Acme delivery left my package in the rain. Box soaked, not happy.",
        ],
        "es": [
            "@acme mi pedido lleva una semana 'en reparto' y no llega 📦",
            "El envío de Acme llegó con la caja rota, el Roadrunner Pro no funciona",
        ],
    },
    "support": {
        "en": [
            "@acme Roadrunner Pro keeps disconnecting from the app, error 42. Not working since the update.",
            "Acme support chat has been 'connecting' for 40 minutes. Anyone there?",
        ],
        "es": [
            "@acme el Roadrunner Pro no funciona después de actualizar, sale un error al conectar",
            "El soporte de Acme no contesta, llevo dos días esperando",
        ],
    },
    "question": {
        "en": [
            "@acme how do I pair the Roadrunner Pro with a second phone?",
            "How do I change the language on the Acme app? Can't find it anywhere #acme",
            "Does the Roadrunner Pro work with the old Acme charger? @acme",
        ],
        "es": [
            "@acme ¿cómo puedo cambiar la correa del Roadrunner Pro?",
            "¿Cómo puedo descargar mi factura de Acme? No la encuentro en la web",
            "¿Alguien sabe si el Roadrunner Pro es resistente al agua? #acme",
        ],
    },
    "competitor": {
        "en": [
            "Torn between the Acme Roadrunner Pro and the Globex Sprint. Thoughts?",
            "Switched from Initech to Acme last month, the Roadrunner Pro is just better 💪",
            "Globex has cheaper shipping than @acme but the Roadrunner Pro wins on battery.",
        ],
        "es": [
            "¿Roadrunner Pro de Acme o el Globex Sprint? No me decido 🤔",
            "Me pasé de Initech a Acme y no me arrepiento #acme",
        ],
    },
}

REPLIES: dict[str, list[str]] = {
    "en": [
        "Same here! Did you get any answer from @acme?",
        "This happened to me too, they refunded after a week.",
        "Totally agree 👏",
        "Try resetting it, worked for me",
    ],
    "es": [
        "¡A mí me pasó lo mismo! ¿Te respondió @acme?",
        "Totalmente de acuerdo 👏",
        "Prueba a reiniciarlo, a mí me funcionó",
    ],
}

ARTICLES = [
    (
        "Acme Roadrunner Pro review: the summer's best gadget?",
        "We spent two weeks with Acme's Roadrunner Pro. Battery life impresses; the app still needs work.",
    ),
    (
        "Acme vs Globex: which tracker should you buy?",
        "Comparing the Roadrunner Pro with the Globex Sprint on price, battery and support.",
    ),
    (
        "Foro: problemas con el reembolso de Acme",
        "Varios usuarios informan de cobros dobles y reembolsos que tardan semanas.",
    ),
    ("Acme launches #AcmeSummer campaign", "Acme announces discounts on the Roadrunner Pro for the summer season."),
    ("Initech and Acme race for the outdoor market", "Analysts compare Initech's new line with Acme's Roadrunner Pro."),
]

PLATFORM_WEIGHTS = {"x": 45, "facebook": 25, "youtube": 20, "feed": 10}
CATEGORY_WEIGHTS = {"praise": 25, "billing": 20, "delivery": 10, "support": 12, "question": 18, "competitor": 15}


def snowflake(at: datetime, rng: random.Random) -> int:
    return ((int(at.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) | rng.getrandbits(22)


def _random_id(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _without_handle(text: str) -> str:
    """Text written for X, as people write it where there are no @handles: "Acme, …"."""
    if text.lower().startswith("@acme "):
        text = "Acme, " + text[len("@acme ") :]
    return text.replace("@acme", "Acme")


def _author(persona: Persona, platform: str) -> dict:
    data = {
        "id": persona.id,
        "handle": persona.handle,
        "name": persona.name,
        "followers": persona.followers,
        "verified": persona.verified,
        "avatar": f"https://i.pravatar.example/48?u={persona.handle}",
    }
    if platform == "youtube":
        data["id"] = f"UC{persona.id}{persona.handle[:6]}"
        data["name"] = f"@{persona.handle}"
    return data


class Generator:
    def __init__(self, rng: random.Random | None = None):
        self.rng = rng or random.Random()

    def _text(self, persona: Persona) -> str:
        category = self.rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        lang = persona.lang if self.rng.random() < 0.85 else ("en" if persona.lang == "es" else "es")
        return self.rng.choice(TEMPLATES[category][lang])

    def make(self, at: datetime) -> SandboxPost:
        platform = self.rng.choices(list(PLATFORM_WEIGHTS), weights=list(PLATFORM_WEIGHTS.values()))[0]
        persona = self.rng.choice(PERSONAS)
        return getattr(self, f"_{platform}")(persona, at)

    def _parent(self, platform: str, kinds: tuple[str, ...], before: datetime) -> SandboxPost | None:
        if self.rng.random() > 0.3:
            return None
        candidates = list(
            SandboxPost.objects.filter(platform=platform, kind__in=kinds, created_at__lt=before).order_by("-sort_key")[
                :15
            ]
        )
        return self.rng.choice(candidates) if candidates else None

    def _x(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        payload = {"author": _author(persona, "x"), "lang": persona.lang, "likes": self.rng.randint(0, 80)}
        parent = self._parent("x", ("tweet",), at)
        roll = self.rng.random()
        if parent is not None:
            text = f"@{parent.author.get('handle', X_BRAND_HANDLE)} {self.rng.choice(REPLIES[persona.lang])}"
            if "@acme" not in text.lower():
                text += " @acme"
            return SandboxPost(
                platform="x", external_id=str(key), kind="tweet", text=text, parent_external_id=parent.external_id,
                thread_external_id=parent.thread_external_id or parent.external_id, sort_key=key, payload=payload,
                created_at=at,
            )  # fmt: skip
        if roll < 0.05:
            original = SandboxPost.objects.filter(platform="x", kind="tweet").order_by("-sort_key").first()
            if original is not None:
                payload["retweet_of"] = original.external_id
                return SandboxPost(
                    platform="x", external_id=str(key), kind="tweet", sort_key=key, payload=payload, created_at=at,
                    text=f"RT @{original.author.get('handle', '')}: {original.text}"[:280],
                )  # fmt: skip
        if roll < 0.08:
            brand = Persona(X_BRAND_USER_ID, X_BRAND_HANDLE, "Acme", 182000, verified=True)
            payload["author"] = _author(brand, "x")
            return SandboxPost(
                platform="x", external_id=str(key), kind="tweet", sort_key=key, payload=payload, created_at=at,
                text="Summer is here ☀️ 15% off the Roadrunner Pro with #AcmeSummer — and yes, @acme reads every reply.",
            )  # fmt: skip
        return SandboxPost(
            platform="x", external_id=str(key), kind="tweet", text=self._text(persona), sort_key=key,
            payload=payload, created_at=at,
        )  # fmt: skip

    def _page_post(self, at: datetime) -> SandboxPost:
        post = SandboxPost.objects.filter(platform="facebook", kind="page_post").order_by("-sort_key").first()
        if post is not None and self.rng.random() < 0.85:
            return post
        key = snowflake(at - timedelta(hours=1), self.rng)
        post = SandboxPost.objects.create(
            platform="facebook", external_id=f"{PAGE_ID}_{key}", kind="page_post", sort_key=key,
            created_at=at - timedelta(hours=1),
            text=self.rng.choice([
                "Meet the Roadrunner Pro: lighter, faster, longer battery. What would you take it on? #AcmeSummer",
                "¡Llega el verano! Cuéntanos a dónde llevarías tu Roadrunner Pro ☀️",
                "Service update: we are answering every message about delayed orders. Thanks for your patience.",
            ]),
            payload={"author": {"id": PAGE_ID, "name": PAGE_NAME}},
        )  # fmt: skip
        return post

    def _facebook(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        author = _author(persona, "facebook")
        author["id"] = f"10{persona.id}"
        payload = {"author": author, "likes": self.rng.randint(0, 40)}
        roll = self.rng.random()
        if roll < 0.15:
            return SandboxPost(
                platform="facebook", external_id=f"{author['id']}_{key}", kind="visitor_post",
                text=_without_handle(self._text(persona)), sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        if roll < 0.22:
            return SandboxPost(
                platform="facebook", external_id=f"{author['id']}_{key}", kind="tagged",
                text=_without_handle(self._text(persona)), sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        parent = self._parent("facebook", ("comment",), at)
        if parent is not None:
            return SandboxPost(
                platform="facebook", external_id=f"{parent.thread_external_id.split('_')[-1]}_{key}", kind="reply",
                text=_without_handle(self.rng.choice(REPLIES[persona.lang])), parent_external_id=parent.external_id,
                thread_external_id=parent.thread_external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        post = self._page_post(at)
        return SandboxPost(
            platform="facebook", external_id=f"{post.external_id.split('_')[-1]}_{key}", kind="comment",
            text=_without_handle(self._text(persona)), parent_external_id=post.external_id, thread_external_id=post.external_id,
            sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _youtube(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        payload = {"author": _author(persona, "youtube"), "likes": self.rng.randint(0, 300)}
        parent = self._parent("youtube", ("comment",), at)
        if parent is not None:
            payload["video_id"] = parent.payload.get("video_id", VIDEOS[0][0])
            return SandboxPost(
                platform="youtube", external_id=f"{parent.external_id}.{_random_id(self.rng, 22)}", kind="reply",
                text=_without_handle(self.rng.choice(REPLIES[persona.lang])), parent_external_id=parent.external_id,
                thread_external_id=parent.external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        video_id, _title = self.rng.choice(VIDEOS)
        payload["video_id"] = video_id
        comment_id = "Ugz" + _random_id(self.rng, 23)
        return SandboxPost(
            platform="youtube", external_id=comment_id, kind="comment", text=_without_handle(self._text(persona)),
            thread_external_id=comment_id, sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _feed(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        site, site_name = self.rng.choice(FEED_SITES)
        title, summary = self.rng.choice(ARTICLES)
        slug = "-".join(title.lower().split()[:5]).strip("?:#")
        return SandboxPost(
            platform="feed", external_id=f"{site}/p/{key}", kind="article", text=summary, sort_key=key, created_at=at,
            payload={"author": {"name": persona.name}, "title": title, "link": f"{site}/p/{key}/{slug}", "site": site_name},
        )  # fmt: skip


def generate(
    count: int, *, spread: timedelta | None = None, now: datetime | None = None, seed: int | None = None
) -> list[SandboxPost]:
    """Create ``count`` sandbox items, at ``now`` or spread over the ``spread`` before it, oldest first."""
    now = now or timezone.now()
    generator = Generator(random.Random(seed) if seed is not None else None)
    if spread:
        times = sorted(now - timedelta(seconds=generator.rng.uniform(0, spread.total_seconds())) for _ in range(count))
    else:
        times = [now - timedelta(milliseconds=count - i) for i in range(count)]
    created = []
    for at in times:
        with transaction.atomic():
            post = generator.make(at)
            if post.pk is None:
                post.save()
        created.append(post)
    return created
