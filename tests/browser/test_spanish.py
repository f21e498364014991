"""Each role's main pages in Spanish, chosen on the person's profile (the browser asks for English):
no text the project translates is left in English, and history shows statuses in Spanish."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from listening.models import Intent, Mention, MentionEvent, Sentiment
from responses.models import Profile, Ticket, TicketEvent
from sandbox.management.commands.demo_setup import DEMO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.mo"

# Every text node and every read-out attribute of the page; the header's language menu names each
# language in its own tongue ("English") on purpose, and what strangers wrote (marked
# translate="no": a report's top words) is shown as written.
VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && !parent.closest("script, style, #language, [translate=no]")) out.push(walker.currentNode.textContent.trim());
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title], [alt], input[type=submit]")) {
    for (const name of ["placeholder", "aria-label", "title", "alt", "value"]) {
      if (el.hasAttribute(name) && (name !== "value" || el.type === "submit")) out.push(el.getAttribute(name).trim());
    }
  }
  out.push(document.title.split(" · ")[0].trim());
  return out;
}"""


def english_only() -> set[str]:
    """The project's English texts that Spanish says differently (the msgids whose msgstr differs)."""
    with CATALOGUE.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog
    english = set()
    for key, value in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        msgid = msgid.split("\x04")[-1].strip()  # without its context
        if msgid and "%(" not in msgid and isinstance(value, str) and value.strip() != msgid:
            english.add(msgid)
    return english


STORED_VALUES = {*Mention.Status.values, *Sentiment.values, *Intent.values, *Ticket.Status.values}


def changes_of_state() -> tuple[str, ...]:
    """How history names a change of status, sentiment or intent, in Spanish (a tag is free text)."""
    kinds = (MentionEvent.Kind.STATUS, MentionEvent.Kind.SENTIMENT, MentionEvent.Kind.INTENT, TicketEvent.Kind.STATUS)
    with translation.override("es"):
        return tuple(str(kind.label) for kind in kinds)


@pytest.mark.parametrize("role", ["cm", "billing", "manager"])
def test_every_main_page_speaks_spanish_to_who_chose_it(demo, login, page, role) -> None:
    user = demo.users[role]
    Profile.objects.update_or_create(user=user, defaults={"language": "es"})
    login(user, DEMO_PASSWORD)
    english, changes = english_only(), changes_of_state()
    left = {}
    for path, _control in demo.pages[role]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "es", path
        if found := sorted({text for text in page.evaluate(VISIBLE_TEXTS) if text in english}):
            left[path] = found
        # History lines: "Estado cambiado: Nueva → Derivada", never the stored "new → routed".
        for line in page.locator(".events li, .timeline li").all_inner_texts():
            if "→" in line and any(kind in line for kind in changes):
                change = line.rsplit(":", 1)[-1]
                assert not set(re.split(r"[\s→]+", change)) & STORED_VALUES, (path, line)
    assert not left, left
