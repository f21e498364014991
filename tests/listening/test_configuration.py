"""Community managers configure channels and tracked terms without the admin site."""

from __future__ import annotations

import pytest
from django.test import Client

from listening.forms import ChannelForm
from listening.models import Channel, TrackedTerm
from tests.factories import ChannelFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_add_a_facebook_channel_with_credentials_kept_secret(team):
    client = signed_in(team.cm)
    url = f"/brands/{team.brand.slug}/channels/new/facebook/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"Page access token" in page.content
    response = client.post(
        url,
        {
            "name": "Acme Page",
            "poll_interval_seconds": 120,
            "is_active": "on",
            "setting_page_id": "1234567890",
            "setting_graph_version": "v21.0",
            "credential_page_access_token": "EAAB-secret",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="Acme Page")
    assert channel.settings == {"page_id": "1234567890", "graph_version": "v21.0", "include_own_posts": False}
    assert channel.credentials == {"page_access_token": "EAAB-secret"}
    edit = client.get(f"/channels/{channel.pk}/edit/")
    assert b"EAAB-secret" not in edit.content
    assert b"Leave blank to keep it" in edit.content


def test_add_an_instagram_channel(team):
    client = signed_in(team.cm)
    url = f"/brands/{team.brand.slug}/channels/new/instagram/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"Instagram account id (Graph API)" in page.content
    response = client.post(
        url,
        {
            "name": "Acme on Instagram",
            "poll_interval_seconds": 120,
            "is_active": "on",
            "setting_ig_user_id": "17841400000000001",
            "setting_max_media": "10",
            "credential_page_access_token": "EAAB-secret",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="Acme on Instagram")
    assert channel.platform == "instagram"
    assert channel.settings == {"ig_user_id": "17841400000000001", "max_media": 10}
    assert channel.credentials == {"page_access_token": "EAAB-secret"}


def test_add_a_linkedin_channel_and_a_bad_version_is_refused(team):
    client = signed_in(team.cm)
    url = f"/brands/{team.brand.slug}/channels/new/linkedin/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"LinkedIn organization id" in page.content
    form = {
        "name": "Acme on LinkedIn",
        "poll_interval_seconds": 300,
        "is_active": "on",
        "setting_organization_id": "2414183",
        "setting_linkedin_version": "2026-10",
        "credential_access_token": "AQV-secret",
        "credential_refresh_token": "AQX-secret",
        "credential_client_id": "86abc",
        "credential_client_secret": "WPL-secret",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200 and not Channel.objects.filter(name="Acme on LinkedIn").exists()
    assert b"Not a valid value: 2026-10." in refused.content
    response = client.post(url, {**form, "setting_linkedin_version": "202610"})
    assert response.status_code == 302
    channel = Channel.objects.get(name="Acme on LinkedIn")
    assert channel.platform == "linkedin"
    assert channel.settings["organization_id"] == "2414183" and channel.settings["linkedin_version"] == "202610"
    assert channel.credentials == {
        "access_token": "AQV-secret",
        "refresh_token": "AQX-secret",
        "client_id": "86abc",
        "client_secret": "WPL-secret",
    }


def test_a_bad_setting_is_shown_and_what_was_typed_is_kept(team):
    response = signed_in(team.cm).post(
        f"/brands/{team.brand.slug}/channels/new/facebook/",
        {"name": "Broken", "poll_interval_seconds": 120, "setting_graph_version": "21", "setting_page_name": "Acme"},
    )
    assert response.status_code == 200
    assert b"This setting is required." in response.content
    assert b"Not a valid value: 21." in response.content
    assert b'value="Acme"' in response.content
    assert not Channel.objects.filter(name="Broken").exists()


def test_blank_credentials_keep_the_stored_ones_and_new_ones_resume_polling(team):
    channel = ChannelFactory(
        brand=team.brand,
        settings={"user_id": "1"},
        credentials={"bearer_token": "old", "consumer_key": "ck"},
        state=Channel.State.RECONNECT,
    )
    client = signed_in(team.cm)
    form = {"name": channel.name, "poll_interval_seconds": 300, "is_active": "on", "setting_user_id": "1"}
    assert client.post(f"/channels/{channel.pk}/edit/", form).status_code == 302
    channel.refresh_from_db()
    assert channel.credentials == {"bearer_token": "old", "consumer_key": "ck"}
    assert channel.state == Channel.State.RECONNECT
    client.post(f"/channels/{channel.pk}/edit/", {**form, "credential_bearer_token": "new"})
    channel.refresh_from_db()
    assert channel.credentials["bearer_token"] == "new"
    assert channel.state == Channel.State.OK


def test_saving_a_channel_keeps_what_a_poll_wrote_while_the_form_was_open(team):
    channel = ChannelFactory(brand=team.brand, settings={"user_id": "1"}, credentials={"bearer_token": "t"})
    form = ChannelForm(
        {"name": "Renamed", "poll_interval_seconds": 300, "is_active": "on", "setting_user_id": "1"},
        platform=channel.platform,
        instance=channel,
    )
    # A poll stores new mentions and moves the cursor between the page loading and the save.
    Channel.objects.filter(pk=channel.pk).update(cursor={"since_id": "42"}, last_error="HTTP 503")
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert channel.cursor == {"since_id": "42"} and channel.last_error == "HTTP 503"


def test_other_brands_and_other_roles_cannot_configure(team):
    channel = ChannelFactory(brand=team.brand, settings={"user_id": "1"})
    outsider = signed_in(team.outsider)
    assert outsider.get(f"/channels/{channel.pk}/edit/").status_code == 404
    assert outsider.get(f"/brands/{team.brand.slug}/terms/").status_code == 404
    assert outsider.get(f"/brands/{team.brand.slug}/channels/new/x/").status_code == 404
    assert signed_in(team.billing_member).get(f"/brands/{team.brand.slug}/terms/").status_code == 403
    assert signed_in(team.manager).get(f"/channels/{channel.pk}/edit/").status_code == 403
    assert signed_in(team.cm).get(f"/brands/{team.brand.slug}/channels/new/myspace/").status_code == 404


def test_terms_are_added_edited_retired_and_brought_back(team):
    client = signed_in(team.cm)
    url = f"/brands/{team.brand.slug}/terms/"
    response = client.post(
        url, {"kind": "competitor", "text": " Globex ", "group": "", "exclusions_text": "globex corporation\n\n"}
    )
    assert response.status_code == 302
    term = TrackedTerm.objects.get(brand=team.brand, text="Globex")
    assert term.exclusions == ["globex corporation"]
    duplicate = client.post(url, {"kind": "competitor", "text": "globex", "exclusions_text": ""})
    assert b"This brand already tracks this term." in duplicate.content
    client.post(url, {"toggle": term.pk})
    term.refresh_from_db()
    assert term.is_active is False
    client.post(url, {"kind": "competitor", "text": "Globex", "exclusions_text": ""})
    assert TrackedTerm.objects.filter(brand=team.brand, text="Globex").count() == 1
    term.refresh_from_db()
    assert term.is_active is True


def test_hostile_term_text_is_escaped(team):
    TrackedTermFactory(brand=team.brand, text="<script>alert(1)</script>")
    content = signed_in(team.cm).get(f"/brands/{team.brand.slug}/terms/").content
    assert b"<script>alert(1)</script>" not in content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_the_channel_list_shows_health_and_resumes_a_channel(team):
    channel = ChannelFactory(
        brand=team.brand,
        name="Acme on X",
        settings={"user_id": "1"},
        state=Channel.State.RECONNECT,
        last_error="401 Unauthorized: <b>token revoked</b>",
        consecutive_failures=3,
        rate_limit_remaining=12,
        deletion_check={"error": "X compliance job 7 ended <i>expired</i>", "failures": 1},
    )
    client = signed_in(team.cm)
    page = client.get("/channels/").content.decode()
    assert "Reconnect needed" in page and "3 failures in a row" in page
    assert "&lt;b&gt;token revoked&lt;/b&gt;" in page
    assert "Deletion check: X compliance job 7 ended &lt;i&gt;expired&lt;/i&gt;" in page
    assert "Resume polling" in page
    assert client.post(f"/channels/{channel.pk}/poll/").status_code == 302
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK and channel.consecutive_failures == 0
    assert signed_in(team.outsider).post(f"/channels/{channel.pk}/poll/").status_code == 404
