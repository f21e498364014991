"""Spanish is the first translation: every screen a person opens speaks it when asked to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_the_spanish_catalogue_has_no_untranslated_or_fuzzy_entry():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header
    empty = [
        e for e in entries if re.search(r'^msgstr(\[\d\])? ""\n?$', e, re.M) and '\n"' not in e.split("msgstr", 1)[1]
    ]
    assert not empty, empty[:3]
    assert "#, fuzzy" not in text


@pytest.mark.parametrize(
    ("who", "path", "spanish"),
    [
        ("cm", "/inbox/", "Bandeja de entrada"),
        ("cm", "/channels/", "Canales"),
        ("manager", "/reports/", "Informe"),
        ("billing_member", "/tickets/", "Tickets"),
    ],
)
def test_pages_render_in_spanish(team, who, path, spanish):
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(getattr(team, who))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    assert spanish in response.content.decode()


def test_the_login_page_speaks_spanish():
    content = Client(HTTP_ACCEPT_LANGUAGE="es").get("/accounts/login/").content.decode()
    assert "Contraseña" in content


def test_mention_and_ticket_statuses_agree_in_gender_in_spanish(team):
    from tests.factories import ChannelFactory, MentionFactory, TicketFactory

    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    TicketFactory(mention=mention, department=team.billing)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(team.cm)
    assert ">Nueva<" in client.get("/inbox/").content.decode()  # una mención nueva
    assert "Abierto" in client.get("/tickets/").content.decode()  # un ticket abierto
