"""Each role's day is walked four ways: at a laptop's width (1280 px) and a phone's (390 px), in
English and in Spanish (chosen on the person's profile, as people do in the header's menu).

A walk finds what it clicks by role and by the words a person reads, in the walk's language: the
words come from the project's own catalogue (``Walk.t``), never typed out in English, so the same
walk reads the Spanish page. On a phone there is no keyboard to press shortcuts on: the walk taps
the controls instead, and checks at every step that the page does not scroll sideways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Choices
from django.utils import formats, translation
from django.utils.translation import gettext, ngettext, pgettext

PHONE, LAPTOP = 390, 1280
WALKS = [
    pytest.param((width, language), id=f"{width}px-{language}")
    for width in (LAPTOP, PHONE)
    for language in ("en", "es")
]


def overflow(page: Any) -> dict:
    """The document's width against the window's, and the widest element that sticks out (to name it)."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          let culprit = "";
          for (const el of document.querySelectorAll("body *")) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 1) {
              culprit = `${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${Math.round(box.right)}`;
              break;
            }
          }
          return {scroll: document.scrollingElement.scrollWidth, width, culprit};
        }"""
    )


@dataclass
class Walk:
    page: Any
    width: int
    language: str

    @property
    def phone(self) -> bool:
        return self.width == PHONE

    def t(self, text: str, context: str = "") -> str:
        """``text`` as the page shows it in the walk's language."""
        with translation.override(self.language):
            return pgettext(context, text) if context else gettext(text)

    def n(self, singular: str, plural: str, count: int, **params: object) -> str:
        with translation.override(self.language):
            return ngettext(singular, plural, count) % {"count": count, **params}

    def label(self, choice: Choices) -> str:
        """A stored value's label ("Resolved", "Resuelto")."""
        with translation.override(self.language):
            return str(choice.label)

    def number(self, value: float) -> str:
        with translation.override(self.language):
            return formats.localize(value)

    def sign_in(self, login: Any, user: AbstractBaseUser, *password: str) -> Any:
        """The person picked the walk's language on their profile; the login form is the real one."""
        from responses.preferences import user_language_set

        user_language_set(user=user, language=self.language)
        page = login(user, *password)
        assert page.locator("html").get_attribute("lang") == self.language
        self.fits()
        return page

    def fits(self) -> None:
        """No sideways scrolling on this page (the culprit named when there is)."""
        measured = overflow(self.page)
        assert measured["scroll"] <= measured["width"], (self.width, self.page.url, measured)

    def stacked(self, above: str, below: str) -> None:
        """On a phone ``below`` comes under ``above`` (one column), not beside it."""
        top, bottom = self.page.locator(above).bounding_box(), self.page.locator(below).bounding_box()
        assert top and bottom and bottom["y"] >= top["y"] + top["height"] - 1, (above, top, below, bottom)
