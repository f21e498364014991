"""The Privacy pages, the people API and the person_* commands: who may use them and what they do."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from config.roles import ADMIN
from listening.models import Author, Mention, Platform, PrivacyAuditEntry, SuppressedAuthor
from listening.privacy import platform_deletions_apply
from tests.factories import MentionFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def admin(team):
    return UserFactory(username="ada", roles=[ADMIN])


@pytest.fixture
def author(team):
    person = Author.objects.create(
        platform=Platform.X, external_id="4242", handle="h4ck3r", name=f"Eve {HOSTILE}", profile_url="https://x.com/h"
    )
    mention = MentionFactory(channel__brand=team.brand, author=person, text=f"Acme is bad {HOSTILE} refund-77")
    TicketFactory(mention=mention, department=team.billing)
    return person


def test_the_pages_and_the_api_are_for_those_who_may_handle_personal_data(client, team, author):
    urls = ["/privacy/", "/privacy/?q=h4ck3r", f"/privacy/people/{author.pk}/", "/privacy/log/"]
    for user in (team.cm, team.manager, team.billing_member, team.outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
        assert client.post(f"/privacy/people/{author.pk}/export/").status_code == 403
        assert (
            client.post(f"/privacy/people/{author.pk}/", {"mode": "anonymise", "confirm": "h4ck3r"}).status_code == 403
        )
        api = APIClient()
        api.force_authenticate(user)
        assert api.get("/api/v1/people/?q=h4ck3r").status_code == 403
        assert api.get(f"/api/v1/people/{author.pk}/export/").status_code == 403
        assert api.post(f"/api/v1/people/{author.pk}/erase/", {}, format="json").status_code == 403
    assert Mention.objects.get(author=author).text.startswith("Acme is bad")
    assert not PrivacyAuditEntry.objects.exists()
    assert "/privacy/" not in client.get("/tickets/").content.decode()  # nor in the navigation


def test_an_admin_finds_a_person_and_what_they_wrote_is_escaped(client, admin, author):
    client.force_login(admin)
    page = client.get("/privacy/", {"q": "@h4ck3r"}).content.decode()
    assert f'href="/privacy/people/{author.pk}/"' in page
    assert '<a href="/privacy/"' in page  # in the navigation
    assert HOSTILE not in page and "&lt;script&gt;" in page
    person = client.get(f"/privacy/people/{author.pk}/").content.decode()
    assert HOSTILE not in person and "&lt;script&gt;" in person
    assert "1 mention, with its history" in person and "1 ticket citing them" in person
    nobody = client.get("/privacy/", {"q": HOSTILE}).content.decode()
    assert HOSTILE not in nobody


def test_the_export_downloads_are_audited(client, admin, author):
    client.force_login(admin)
    response = client.post(f"/privacy/people/{author.pk}/export/", {"format": "zip"})
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "refund-77" in archive.read("mentions.csv").decode()
    assert archive.read("tickets.csv").decode().count("\n") == 2  # the header and the ticket
    as_json = client.post(f"/privacy/people/{author.pk}/export/", {"format": "json"})
    assert json.loads(as_json.content)["profile"]["handle"] == "h4ck3r"
    assert [e.action for e in PrivacyAuditEntry.objects.all()] == ["export", "export"]
    log = client.get("/privacy/log/").content.decode()
    assert "h4ck3r" not in log and "Eve" not in log and "Export" in log


def test_erasing_on_the_page_asks_for_the_handle_first(client, admin, author):
    client.force_login(admin)
    wrong = client.post(f"/privacy/people/{author.pk}/", {"mode": "anonymise", "confirm": "someone-else"})
    assert wrong.status_code == 200
    assert "What you typed does not match: nothing was erased." in wrong.content.decode()
    assert Author.objects.filter(pk=author.pk).exists()

    right = client.post(f"/privacy/people/{author.pk}/", {"mode": "delete", "confirm": "@H4CK3R", "suppress": "on"})
    assert right.status_code == 302 and right["Location"] == "/privacy/"
    assert not Author.objects.filter(pk=author.pk).exists()
    assert not Mention.objects.filter(text__contains="refund-77").exists()
    entry = PrivacyAuditEntry.objects.get()
    assert (entry.action, entry.mode, entry.suppressed, entry.actor) == ("erasure", "delete", True, admin)
    assert SuppressedAuthor.objects.count() == 1
    assert client.get(f"/privacy/people/{author.pk}/").status_code == 404


def test_the_ticket_of_an_erased_mention_says_why_the_original_is_gone(client, team, admin, author):
    ticket = author.mentions.get().tickets.get()
    client.force_login(admin)
    client.post(f"/privacy/people/{author.pk}/", {"mode": "anonymise", "confirm": "h4ck3r"})
    client.force_login(team.cm)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "The original was removed: erased at the person&#x27;s request." in page
    assert "refund-77" not in page and "h4ck3r" not in page
    queue = client.get("/tickets/").content.decode()
    assert "Removed: erased at the person&#x27;s request." in queue and "h4ck3r" not in queue


def test_the_ticket_of_a_mention_deleted_on_its_platform_names_the_platform(client, team, author):
    mention = author.mentions.get()
    ticket = mention.tickets.get()
    assert platform_deletions_apply(channel=mention.channel, external_ids=[mention.external_id]) == 1
    client.force_login(team.cm)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "The original was removed: deleted on X (Twitter)." in page
    assert "refund-77" not in page and "h4ck3r" not in page
    assert "Removed: deleted on X (Twitter)." in client.get("/tickets/").content.decode()
    mention.refresh_from_db()
    assert mention.channel.platform == "x" and mention.erased_reason == "platform"


def test_the_api_searches_exports_and_erases(team, admin, author):
    api = APIClient()
    api.force_authenticate(admin)
    found = api.get("/api/v1/people/", {"q": "h4ck3r"}).json()
    assert [p["platform_id"] for p in found["results"]] == ["4242"]
    assert api.get("/api/v1/people/").json()["results"] == []
    export = api.get(f"/api/v1/people/{author.pk}/export/").json()
    assert "refund-77" in export["mentions"][0]["text"] and len(export["tickets"]) == 1
    assert api.post(f"/api/v1/people/{author.pk}/erase/", {"mode": "shred"}, format="json").status_code == 400
    erased = api.post(f"/api/v1/people/{author.pk}/erase/", {"suppress": True}, format="json")
    assert erased.status_code == 200
    assert erased.json()["rows"]["listening.Mention"] == 1
    assert PrivacyAuditEntry.objects.get(pk=erased.json()["audit_entry"]).mode == "anonymise"
    assert api.get(f"/api/v1/people/{author.pk}/export/").status_code == 404


def test_the_commands_export_count_and_erase(tmp_path: Path, team, author):
    output = tmp_path / "person.zip"
    out = io.StringIO()
    call_command("person_export", platform="x", handle="@h4ck3r", output=str(output), stdout=out)
    assert "refund-77" in zipfile.ZipFile(output).read("mentions.csv").decode()

    out = io.StringIO()
    call_command("person_erase", platform="x", platform_id="4242", dry_run=True, stdout=out)
    assert "1 mentions, 1 tickets, 0 replies" in out.getvalue() and "Nothing was changed" in out.getvalue()
    assert Author.objects.filter(pk=author.pk).exists()

    out = io.StringIO()
    call_command("person_erase", platform="x", platform_id="4242", suppress=True, stdout=out)
    assert "1 listening.Mention" in out.getvalue()
    assert not Author.objects.filter(pk=author.pk).exists()
    assert [e.action for e in PrivacyAuditEntry.objects.order_by("pk")] == ["export", "erasure"]
    with pytest.raises(CommandError, match="Nobody"):
        call_command("person_erase", platform="x", platform_id="4242")


@pytest.mark.parametrize(
    ("path", "spanish"),
    [
        ("/privacy/?q=h4ck3r", "Privacidad: los datos de una persona"),
        ("/privacy/log/", "Registro de privacidad"),
        ("/privacy/retention/", "Cuánto tiempo se conservan las menciones"),
    ],
)
def test_the_privacy_pages_speak_spanish(client, admin, author, path, spanish):
    client.force_login(admin)
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert spanish in page
    person = client.get(f"/privacy/people/{author.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "1 mención, con su historial" in person and "Escribe su usuario para confirmar" in person
