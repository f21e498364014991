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
IG_USER_ID = "17841400000000001"
IG_USERNAME = "acme"
# The Instagram account's media: id, caption, permalink shortcode.
IG_MEDIA = [
    ("17900000000000001", "Roadrunner Pro: now in summer orange ☀️\nLink in bio #AcmeSummer", "DAcmeRoad01"),
    ("17900000000000002", "¿A dónde lo llevarías? 🏔️🏖️ #RoadrunnerPro", "DAcmeTrip02"),
    ("17900000000000003", "Behind the scenes at the Acme workshop", "DAcmeWork03"),
]
# The hashtag the demo's Instagram channel follows (demo_setup); people's posts with it arrive through
# the hashtag's recent media.
IG_HASHTAG = "acmeroadrunner"
# The LinkedIn organization page and its posts: share id, text.
LI_ORG_ID = "10000001"
LI_ORG_URN = f"urn:li:organization:{LI_ORG_ID}"
LI_POSTS = [
    ("7265000000000000001", "Roadrunner Pro: now in summer orange. Which trip comes first? #AcmeSummer"),
    ("7265000000000000002", "We're hiring support engineers in Madrid and Montevideo. Come build with us."),
    ("7265000000000000003", "Behind the scenes: how the Acme workshop tests every Roadrunner Pro"),
]
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
    # "customer": buys and uses the product, so praises, asks and complains about their own order;
    # "media": an outlet or reviewer that reports on Acme and never has an order of its own.
    role: str = "customer"


PERSONAS = [
    Persona("2244994945", "lucia_viaja", "Lucía Fernández", 1840, lang="es"),
    Persona("3355001122", "mike_rides", "Mike O'Brien", 312),
    Persona("4455667788", "techreviewdaily", "Tech Review Daily", 245000, verified=True, role="media"),
    Persona("5566778899", "dani.mx", "Daniela Ruiz", 96, lang="es"),
    Persona("6677889900", "sam_k", "Sam Kowalski", 2210),
    Persona("7788990011", "elena_gadgets", "Elena Gadgets ✨", 58300, verified=True, lang="es"),
    Persona("8899001122", "jpark", "Jin Park", 740),
    Persona("9900112233", "carlos_b", "Carlos Benítez", 13, lang="es"),
    Persona("1122334455", "outdoor_anna", "Anna Lindqvist", 15400),
    Persona("1230984567", "paco_runner", "Paco Martín 🏃", 520, lang="es"),
    Persona("2340987654", "ravi_dev", "Ravi Shah", 89),
    Persona("3450986543", "noticias_tec", "Noticias Tec", 120500, verified=True, lang="es", role="media"),
]

# Each text is drawn from a template and its blanks, so that no two people post the same words:
# a template's blanks ({order}, {days}…) are filled per post, and a text already posted is drawn again.
BLANKS: dict[str, list[str]] = {
    "days": [str(n) for n in range(2, 15)],
    "weeks": [str(n) for n in range(2, 9)],
    "minutes": [str(n) for n in range(15, 125, 5)],
    "place_en": ["on a hike", "at the beach", "on my commute", "in the mountains", "on a road trip", "at the gym"],
    "place_es": ["en la playa", "de ruta por la sierra", "en el gimnasio", "en un viaje en coche", "por el parque"],
    "feature_en": ["the battery", "the GPS", "the new app", "the screen", "the sleep tracking", "the charger"],
    "feature_es": ["la batería", "el GPS", "la app nueva", "la pantalla", "el control del sueño", "el cargador"],
    "day_en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "day_es": ["el lunes", "el martes", "el miércoles", "el jueves", "el viernes"],
    "error": [str(n) for n in (12, 17, 23, 31, 42, 57, 64)],
    # How people end a post: the same sentence from two people rarely ends the same way.
    "end_en": ["", "", " 🙏", " #acme", " #RoadrunnerPro", " 👀", " 💯", " 🙂", " 😅", " 📱", " !!", " (again)"],
    "pct": ["10", "12", "15", "20", "25", "30"],
    "media_en": ["", " #tech", " #gadgets", " #review", " 👉 link in bio", " #outdoors"],
    "media_es": ["", " #tecnología", " #gadgets", " #análisis", " 👉 enlace en la bio", " #rutas"],
    "end_es": ["", "", " 🙏", " #acme", " #RoadrunnerPro", " 👀", " 💯", " 🙂", " 😅", " 📱", " !!", " (otra vez)"],
}

CUSTOMER_TEXTS: dict[str, dict[str, list[str]]] = {
    "praise": {
        "en": [
            "Just got my Roadrunner Pro from @acme and wow, setup took two minutes 😍 Took it {place_en} already{end_en}",
            "Huge thanks to Acme support, they sorted order {order} in one message 🙌{end_en}",
            "{weeks} weeks with the Roadrunner Pro and {feature_en} is still great. Love it! #AcmeSummer{end_en}",
            "@acme {feature_en} after the update is brilliant, so much better than {weeks} weeks ago 🚀{end_en}",
        ],
        "es": [
            "¡Me encanta mi Roadrunner Pro de @acme! Lo llevé {place_es} y {feature_es} va genial 😍{end_es}",
            "Gracias al equipo de Acme, resolvieron lo de mi pedido {order} en minutos 🙌 #acme{end_es}",
            "{weeks} semanas con el Roadrunner Pro y {feature_es} sigue perfecto #AcmeSummer ☀️{end_es}",
        ],
    },
    "billing": {
        "en": [
            "@acme I was charged twice for order {order} and nobody answers. I want a refund now 😡{end_en}",
            "Still waiting on my refund for order {order} from Acme, it's been {weeks} weeks.{end_en}",
            "@acme why is there a second charge on my card? Order #{order}. Please fix this.{end_en}",
            "Acme sent me the wrong invoice for order {order} again, and no refund in sight #acme{end_en}",
        ],
        "es": [
            "@acme me cobrasteis dos veces el pedido {order} y nadie responde 😡 quiero mi reembolso{end_es}",
            "Llevo {weeks} semanas esperando el reembolso del pedido {order} de Acme.{end_es}",
            "@acme la factura del pedido {order} está mal otra vez, ¿me podéis ayudar?{end_es}",
        ],
    },
    "delivery": {
        "en": [
            "@acme my Roadrunner Pro was supposed to arrive {day_en}, tracking for {order} hasn't moved in {days} days 📦{end_en}",
            "Acme delivery left order {order} in the rain. Box soaked, not happy.{end_en}",
        ],
        "es": [
            "@acme mi pedido {order} lleva {days} días 'en reparto' y no llega 📦{end_es}",
            "El envío de Acme (pedido {order}) llegó {day_es} con la caja rota y el Roadrunner Pro no enciende{end_es}",
        ],
    },
    "support": {
        "en": [
            "@acme Roadrunner Pro keeps disconnecting from the app, error {error}. Not working since the update.{end_en}",
            "Acme support chat has been 'connecting' for {minutes} minutes. Anyone there?{end_en}",
        ],
        "es": [
            "@acme el Roadrunner Pro no funciona desde la actualización, sale el error {error} al conectar{end_es}",
            "Llevo {minutes} minutos en el chat de soporte de Acme y nadie contesta{end_es}",
        ],
    },
    "question": {
        "en": [
            "@acme how do I pair the Roadrunner Pro with a second phone? Tried {days} times{end_en}",
            "How do I change the language on the Acme app? Can't find it anywhere #acme (order {order}){end_en}",
            "Does the Roadrunner Pro work with the old Acme charger? Asking before {day_en} @acme{end_en}",
        ],
        "es": [
            "@acme ¿cómo cambio la correa del Roadrunner Pro? Lo compré hace {days} días{end_es}",
            "¿Cómo descargo la factura del pedido {order} de Acme? No la encuentro en la web{end_es}",
            "¿Alguien sabe si el Roadrunner Pro aguanta el agua? Quiero llevarlo {place_es} #acme{end_es}",
        ],
    },
    "competitor": {
        "en": [
            "Torn between the Acme Roadrunner Pro and the Globex Sprint for {place_en}. Thoughts?{end_en}",
            "Switched from Initech to Acme {weeks} weeks ago, the Roadrunner Pro is just better 💪{end_en}",
            "Globex has cheaper shipping than @acme but {feature_en} on the Roadrunner Pro wins.{end_en}",
        ],
        "es": [
            "¿Roadrunner Pro de Acme o el Globex Sprint para ir {place_es}? No me decido 🤔{end_es}",
            "Me pasé de Initech a Acme y no me arrepiento, {feature_es} es otro nivel{end_es}",
        ],
    },
}

# What outlets and reviewers post: reviews, videos and news; never an order or an invoice. (Worded so
# the analyzers read them as news: a duration such as "after 9 days" reads as a customer's wait.)
MEDIA_TEXTS: dict[str, dict[str, list[str]]] = {
    "review": {
        "en": [
            "Our Roadrunner Pro review: {feature_en} impresses, the app needs work. Full verdict on the site{media_en}",
            "New video: the Acme Roadrunner Pro {place_en}. Our full review is live on the channel{media_en}",
        ],
        "es": [
            "Ya en la web: nuestro análisis del Roadrunner Pro de Acme; lo mejor, {feature_es}{media_es}",
            "Nuevo vídeo: el Roadrunner Pro de Acme {place_es}. Ya en el canal{media_es}",
        ],
    },
    "news": {
        "en": [
            "#AcmeSummer is here: Acme takes {pct}% off the Roadrunner Pro until August. Our buying guide is up{media_en}",
        ],
        "es": [
            "Publicamos nuestra prueba de la nueva app del Roadrunner Pro de Acme, con {feature_es} a fondo{media_es}",
        ],
    },
}

REPLIES: dict[str, list[str]] = {
    "en": [
        "Same here! Did you get any answer from @acme? Mine took {days} days{end_en}",
        "This happened to me too with order {order}, they refunded after a week.{end_en}",
        "Totally agree, {feature_en} is the best part 👏{end_en}",
        "Try resetting it, that fixed {feature_en} for me{end_en}",
    ],
    "es": [
        "¡A mí me pasó lo mismo con el pedido {order}! ¿Te respondió @acme?{end_es}",
        "Totalmente de acuerdo, {feature_es} es lo mejor 👏{end_es}",
        "Prueba a reiniciarlo, a mí me arregló {feature_es}{end_es}",
    ],
}


@dataclass(frozen=True)
class FeedSite:
    url: str
    name: str
    lang: str
    kind: str  # "news" outlets publish articles; on a "forum" customers post their cases
    writers: tuple[str, ...] = ()


FEED_SITES = [
    FeedSite("https://news.techpress.example", "TechPress News", "en", "news", ("Laura Chen", "Tom Becker")),
    FeedSite("https://blog.ruta.example", "Blog de Ruta", "es", "news", ("Irene Soler",)),
    FeedSite("https://forum.gadgets.example", "Gadgets Forum", "en", "forum"),
    FeedSite("https://foro.tecnologia.example", "Foro Tecnología", "es", "forum"),
]

ARTICLES: dict[str, list[tuple[str, str]]] = {
    "en": [
        (
            "Acme Roadrunner Pro review: {weeks} weeks later",
            "Our verdict on Acme's Roadrunner Pro: {feature_en} impresses, the app needs work.",
        ),
        (
            "Acme vs Globex: which tracker to take {place_en}?",
            "Our buying guide puts the Roadrunner Pro next to the Globex Sprint; {feature_en} is where Acme leads.",
        ),
        (
            "Acme's #AcmeSummer discounts, tested",
            "#AcmeSummer is here: Acme takes {pct}% off the Roadrunner Pro until August. Our buying guide is up",
        ),
        (
            "Initech and Acme race for the outdoor market",
            "Analysts compare Initech's new line with Acme's Roadrunner Pro; {feature_en} is where Acme leads.",
        ),
    ],
    "es": [
        (
            "Roadrunner Pro de Acme: {weeks} semanas después",
            "Nuestro análisis del Roadrunner Pro de Acme, también {place_es}: lo mejor, {feature_es}.",
        ),
        (
            "Rutas de verano con el Roadrunner Pro",
            "{days} días de ruta con el Roadrunner Pro de Acme: así se comportó {feature_es}.",
        ),
    ],
}

FORUM_TITLES = {
    "billing": {"en": "Double charge from Acme?", "es": "¿Cobro doble de Acme?"},
    "delivery": {"en": "Acme order stuck in delivery", "es": "Pedido de Acme atascado en el reparto"},
    "support": {"en": "Roadrunner Pro won't connect", "es": "El Roadrunner Pro no conecta"},
    "question": {"en": "Roadrunner Pro question", "es": "Duda sobre el Roadrunner Pro"},
}


def fill_blanks(template: str, rng: random.Random) -> str:
    """``template`` with each blank filled by a value drawn from ``BLANKS`` (an order number drawn anew)."""
    values = {name: rng.choice(options) for name, options in BLANKS.items()}
    values["order"] = str(rng.randint(10000, 99999))
    return template.format(**values)


PLATFORM_WEIGHTS = {"x": 40, "facebook": 20, "instagram": 15, "youtube": 15, "linkedin": 10, "feed": 10}
CATEGORY_WEIGHTS = {"praise": 25, "billing": 20, "delivery": 10, "support": 12, "question": 18, "competitor": 15}
MEDIA_WEIGHTS = {"review": 60, "news": 40}


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
    if platform == "linkedin":  # a member URN; the API names people by it alone
        data["id"] = f"urn:li:person:{persona.handle.replace('.', '')[:6]}{persona.id[:4]}"
    if platform == "instagram":  # an Instagram-scoped id; people are known by their username there
        data["id"] = f"178414{persona.id}"
        data["name"] = persona.handle
    return data


def x_brand_author() -> dict:
    """The brand's own X account, as the author of its posts."""
    return _author(Persona(X_BRAND_USER_ID, X_BRAND_HANDLE, "Acme", 182000, verified=True), "x")


class Generator:
    def __init__(self, rng: random.Random | None = None):
        self.rng = rng or random.Random()
        self.used: set[str] = set()

    def _unique(self, templates: list[str]) -> str:
        """A text nobody has posted yet (the demo never shows one text under several authors)."""
        for _attempt in range(50):
            text = fill_blanks(self.rng.choice(templates), self.rng)
            if text not in self.used and not SandboxPost.objects.filter(text__contains=text).exists():
                break
        else:  # every draw taken (a sandbox left running for months): a day's mark sets it apart
            text = f"{text} · {timezone.now():%d/%m %H:%M}"
        self.used.add(text)
        return text

    def _text(self, persona: Persona, category: str | None = None) -> tuple[str, str]:
        """What ``persona`` writes, and in which language: customers about their own orders and use,
        outlets about the product and the market."""
        # Some Spanish speakers write in English now and then; the English speakers stick to English.
        lang = "en" if persona.lang == "es" and self.rng.random() < 0.1 else persona.lang
        texts, weights = (MEDIA_TEXTS, MEDIA_WEIGHTS) if persona.role == "media" else (CUSTOMER_TEXTS, CATEGORY_WEIGHTS)
        category = category or self.rng.choices(list(weights), weights=list(weights.values()))[0]
        return self._unique(texts[category][lang]), lang

    def _reply_text(self, persona: Persona) -> str:
        return self._unique(REPLIES[persona.lang])

    def make(self, at: datetime, platform: str | None = None) -> SandboxPost:
        """An item posted ``at``: on ``platform``, or on one drawn by ``PLATFORM_WEIGHTS``."""
        platform = platform or self.rng.choices(list(PLATFORM_WEIGHTS), weights=list(PLATFORM_WEIGHTS.values()))[0]
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

    @staticmethod
    def _ours(platform: str, before: datetime) -> SandboxPost | None:
        """The newest post Escucha published on ``platform`` in the last three days, if any."""
        return (
            SandboxPost.objects.filter(
                platform=platform,
                payload__published_by="escucha",
                created_at__lt=before,
                created_at__gte=before - timedelta(days=3),
            )
            .order_by("-sort_key")
            .first()
        )

    def _x(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        text, lang = self._text(persona)
        if "@acme" not in text.lower() and self.rng.random() < 0.6:
            text = f"{text} @acme"  # on X most people tag the brand they talk about
        payload = {"author": _author(persona, "x"), "lang": lang, "likes": self.rng.randint(0, 80)}
        # Outlets publish; only customers chime in under other people's posts.
        parent = None
        if persona.role == "customer":
            # The brand's posts published from Escucha get their share of answers, so the demo
            # shows comments on them arriving in the inbox.
            ours = self._ours("x", at)
            parent = ours if ours is not None and self.rng.random() < 0.25 else self._parent("x", ("tweet",), at)
        roll = self.rng.random()
        if parent is not None:
            payload["lang"] = persona.lang
            text = f"@{parent.author.get('handle', X_BRAND_HANDLE)} {self._reply_text(persona)}"
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
            payload["author"] = x_brand_author()
            return SandboxPost(
                platform="x", external_id=str(key), kind="tweet", sort_key=key, payload=payload, created_at=at,
                text="Summer is here ☀️ 15% off the Roadrunner Pro with #AcmeSummer — and yes, @acme reads every reply.",
            )  # fmt: skip
        return SandboxPost(
            platform="x", external_id=str(key), kind="tweet", text=text, sort_key=key,
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
                text=_without_handle(self._text(persona)[0]), sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        if roll < 0.22:
            return SandboxPost(
                platform="facebook", external_id=f"{author['id']}_{key}", kind="tagged",
                text=_without_handle(self._text(persona)[0]), sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        parent = self._parent("facebook", ("comment",), at) if persona.role == "customer" else None
        if parent is not None:
            return SandboxPost(
                platform="facebook", external_id=f"{parent.thread_external_id.split('_')[-1]}_{key}", kind="reply",
                text=_without_handle(self._reply_text(persona)), parent_external_id=parent.external_id,
                thread_external_id=parent.thread_external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        post = self._page_post(at)
        return SandboxPost(
            platform="facebook", external_id=f"{post.external_id.split('_')[-1]}_{key}", kind="comment",
            text=_without_handle(self._text(persona)[0]), parent_external_id=post.external_id, thread_external_id=post.external_id,
            sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _instagram(self, persona: Persona, at: datetime) -> SandboxPost:
        """A comment on one of the account's media, or a customer's reply to a comment there; now
        and then a post of theirs that tags the account, or one that @mentions it in its caption or
        in a comment on someone else's post (Instagram tells the latter two only by webhook)."""
        key = snowflake(at, self.rng)
        payload = {"author": _author(persona, "instagram"), "likes": self.rng.randint(0, 60)}
        draw = self.rng.random()
        if draw < 0.24:
            return self._instagram_mention(persona, at, key, payload, draw)
        if draw < 0.30:
            return self._instagram_hashtag(persona, at, key, payload)
        parent = self._parent("instagram", ("comment",), at) if persona.role == "customer" else None
        if parent is not None and parent.payload.get("mention"):
            parent = None  # a comment on someone else's post: its replies are not ours to read
        if parent is not None:
            payload["media_id"] = parent.payload.get("media_id", IG_MEDIA[0][0])
            return SandboxPost(
                platform="instagram", external_id=f"179{key % 10**14:014d}", kind="reply",
                text=self._reply_text(persona), parent_external_id=parent.external_id,
                thread_external_id=parent.external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        payload["media_id"] = self.rng.choice(IG_MEDIA)[0]
        comment_id = f"179{key % 10**14:014d}"
        return SandboxPost(
            platform="instagram", external_id=comment_id, kind="comment", text=self._text(persona)[0],
            thread_external_id=comment_id, sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _linkedin(self, persona: Persona, at: datetime) -> SandboxPost:
        """A post that @mentions the organization, a comment on one of its posts, or a customer's
        reply to a comment there."""
        key = snowflake(at, self.rng)
        payload = {"author": _author(persona, "linkedin"), "likes": self.rng.randint(0, 40)}
        if self.rng.random() < 0.2:
            share = f"urn:li:share:{key}"
            text = self._text(persona)[0].replace("@acme", "@Acme")
            return SandboxPost(
                platform="linkedin", external_id=share, kind="tagged", text=text,
                thread_external_id=share, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        parent = self._parent("linkedin", ("comment",), at) if persona.role == "customer" else None
        if parent is not None:
            payload["activity"] = parent.payload.get("activity", "")
            return SandboxPost(
                platform="linkedin", external_id=f"urn:li:comment:({payload['activity']},{key})", kind="reply",
                text=_without_handle(self._reply_text(persona)), parent_external_id=parent.external_id,
                thread_external_id=parent.thread_external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        post_id = self.rng.choice(LI_POSTS)[0]
        payload["activity"] = f"urn:li:activity:{post_id}"
        return SandboxPost(
            platform="linkedin", external_id=f"urn:li:comment:({payload['activity']},{key})", kind="comment",
            text=_without_handle(self._text(persona)[0]), thread_external_id=f"urn:li:share:{post_id}", sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _instagram_mention(self, persona: Persona, at: datetime, key: int, payload: dict, draw: float) -> SandboxPost:
        """Someone's own post tagging the account (``tagged``), @mentioning it in the caption
        (``tagged`` too, ``mention: caption``), or a comment @mentioning it on another post."""
        text = self._text(persona)[0]
        if not text.lower().startswith("@acme"):
            text = f"@acme {text}"
        shortcode = "D" + _random_id(self.rng, 10).replace("-", "x").replace("_", "y")
        media_id = f"1788{key % 10**13:013d}"
        if draw < 0.16:
            mention = "" if draw < 0.08 else "caption"
            payload.update({"permalink": f"https://www.instagram.com/p/{shortcode}/", "media_id": media_id})
            if mention:
                payload["mention"] = mention
            return SandboxPost(
                platform="instagram", external_id=media_id, kind="tagged", text=text,
                thread_external_id=media_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        comment_id = f"1796{key % 10**13:013d}"
        payload.update(
            {"mention": "comment", "media_id": media_id, "permalink": f"https://www.instagram.com/p/{shortcode}/"}
        )
        return SandboxPost(
            platform="instagram", external_id=comment_id, kind="comment", text=text,
            thread_external_id=comment_id, sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _instagram_hashtag(self, persona: Persona, at: datetime, key: int, payload: dict) -> SandboxPost:
        """Someone's own post with the hashtag the demo follows, neither tagging nor @mentioning the
        account: only the hashtag's recent media show it."""
        text = _without_handle(self._text(persona)[0])
        shortcode = "D" + _random_id(self.rng, 10).replace("-", "x").replace("_", "y")
        media_id = f"1789{key % 10**13:013d}"
        payload.update(
            {
                "permalink": f"https://www.instagram.com/p/{shortcode}/",
                "media_id": media_id,
                "hashtag": IG_HASHTAG,
            }
        )
        return SandboxPost(
            platform="instagram", external_id=media_id, kind="tagged", text=f"{text} #{IG_HASHTAG}",
            thread_external_id=media_id, sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _youtube(self, persona: Persona, at: datetime) -> SandboxPost:
        key = snowflake(at, self.rng)
        payload = {"author": _author(persona, "youtube"), "likes": self.rng.randint(0, 300)}
        parent = self._parent("youtube", ("comment",), at) if persona.role == "customer" else None
        if parent is not None:
            payload["video_id"] = parent.payload.get("video_id", VIDEOS[0][0])
            return SandboxPost(
                platform="youtube", external_id=f"{parent.external_id}.{_random_id(self.rng, 22)}", kind="reply",
                text=_without_handle(self._reply_text(persona)), parent_external_id=parent.external_id,
                thread_external_id=parent.external_id, sort_key=key, payload=payload, created_at=at,
            )  # fmt: skip
        video_id, _title = self.rng.choice(VIDEOS)
        payload["video_id"] = video_id
        comment_id = "Ugz" + _random_id(self.rng, 23)
        return SandboxPost(
            platform="youtube", external_id=comment_id, kind="comment", text=_without_handle(self._text(persona)[0]),
            thread_external_id=comment_id, sort_key=key, payload=payload, created_at=at,
        )  # fmt: skip

    def _feed(self, persona: Persona, at: datetime) -> SandboxPost:
        """A news outlet's article by one of its writers, or a customer's thread on a forum."""
        key = snowflake(at, self.rng)
        site = self.rng.choice(FEED_SITES)
        if site.kind == "news":
            title_template, summary_template = self.rng.choice(ARTICLES[site.lang])
            summary = self._unique([summary_template])
            title, author = fill_blanks(title_template, self.rng), self.rng.choice(site.writers)
        else:
            customers = [p for p in PERSONAS if p.role == "customer" and p.lang == site.lang]
            author_persona = persona if persona in customers else self.rng.choice(customers)
            category = self.rng.choice(list(FORUM_TITLES))
            text = self._unique(CUSTOMER_TEXTS[category][site.lang])
            summary, title, author = _without_handle(text), FORUM_TITLES[category][site.lang], author_persona.name
        slug = "-".join(title.lower().split()[:5]).strip("?:#¿")
        return SandboxPost(
            platform="feed", external_id=f"{site.url}/p/{key}", kind="article", text=summary, sort_key=key,
            created_at=at, payload={
                "author": {"name": author}, "title": title, "link": f"{site.url}/p/{key}/{slug}", "site": site.name,
            },
        )  # fmt: skip


def generate(
    count: int,
    *,
    spread: timedelta | None = None,
    now: datetime | None = None,
    seed: int | None = None,
    platform: str | None = None,
) -> list[SandboxPost]:
    """Create ``count`` sandbox items, at ``now`` or spread over the ``spread`` before it, oldest
    first; all on ``platform`` when given, else each on a platform drawn by ``PLATFORM_WEIGHTS``."""
    now = now or timezone.now()
    generator = Generator(random.Random(seed) if seed is not None else None)
    if spread:
        times = sorted(now - timedelta(seconds=generator.rng.uniform(0, spread.total_seconds())) for _ in range(count))
    else:
        times = [now - timedelta(milliseconds=count - i) for i in range(count)]
    created = []
    for at in times:
        with transaction.atomic():
            post = generator.make(at, platform)
            if post.pk is None:
                post.save()
        created.append(post)
    # Instagram tells @mentions only by webhook: the sandbox delivers them as Meta would.
    from sandbox.instagram import deliver_mentions

    deliver_mentions([post for post in created if post.platform == "instagram" and post.payload.get("mention")])
    return created
