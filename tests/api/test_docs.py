"""The API's schema and documentation: behind login, and served whole from Escucha's own files."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_anonymous_gets_no_schema_and_is_sent_to_log_in_for_the_docs(team) -> None:
    client = Client()
    response = client.get("/api/schema/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    for url in ("/api/docs/", "/api/docs/?script="):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_schema_answers_a_token(team) -> None:
    key = Token.objects.create(user=team.manager).key
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert b"/api/v1/mentions/" in response.content


def test_the_docs_load_nothing_from_another_host_and_run_no_inline_script(team) -> None:
    client = Client()
    client.force_login(team.cm)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert any("/static/drf_spectacular_sidecar/" in source for source in sources)
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html) is None  # every script is a file
    assert "<style" not in html


def test_swagger_ui_start_up_script_is_a_separate_request(team) -> None:
    client = Client()
    client.force_login(team.cm)
    page = client.get("/api/docs/").content.decode()
    (script_url,) = [src for src in re.findall(r'<script src="([^"]+)"', page) if "script" in src.split("?")[-1]]
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
