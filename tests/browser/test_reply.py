"""A community manager answers a mention from the mention page, in real Chromium, to the sandbox X."""

from __future__ import annotations

import pytest

from listening.models import Platform, Sentiment
from responses.models import Reply
from responses.replies import reply_deliver
from sandbox.models import SandboxReply
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, SavedReplyFactory

pytestmark = pytest.mark.django_db(transaction=True)

SANDBOX_X_CREDENTIALS = {
    "bearer_token": "sandbox-bearer",
    "consumer_key": "sandbox-key",
    "consumer_secret": "sandbox-secret",
    "access_token": "sandbox-token",
    "access_token_secret": "sandbox-token-secret",
}


@pytest.fixture
def sandbox_x(team, live_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SITE_URL = live_server.url
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        name="Acme on X (sandbox)",
        api_base_url=f"{live_server.url}/sandbox/x",
        credentials=SANDBOX_X_CREDENTIALS,
    )


def test_community_manager_replies_with_a_saved_reply_and_sees_it_sent(team, sandbox_x, login):
    author = AuthorFactory(name="Dana Díaz", handle="danad")
    mention = MentionFactory(
        channel=sandbox_x,
        author=author,
        external_id="1861234567890123460",
        text="@acme my Roadrunner Pro arrived broken",
        sentiment=Sentiment.NEGATIVE,
    )
    SavedReplyFactory(
        brand=team.brand,
        shortcut="dm",
        title="Ask for a DM",
        body="Hi {{ author.handle }}, sorry about this. Could you DM us your order number? — {{ agent.first_name }}",
    )
    team.cm.first_name = "Carla"
    team.cm.save()

    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/#reply")
    assert page.get_by_text("@acme my Roadrunner Pro arrived broken").is_visible()
    page.select_option("#saved-reply", "dm")
    expected = "Hi @danad, sorry about this. Could you DM us your order number? — Carla"
    assert page.input_value("#reply-text") == expected
    assert page.locator("[data-counter]").inner_text() == str(len(expected))
    page.get_by_role("button", name="Send reply").click()

    sent = page.locator("#replies .reply.delivery-sent")
    sent.wait_for()
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.SENT
    assert reply.external_id in sent.inner_text()
    assert sent.get_by_role("link", name="view on the platform").get_attribute("href").endswith(reply.external_id)
    posted = SandboxReply.objects.get()
    assert (posted.platform, posted.in_reply_to, posted.text) == ("x", "1861234567890123460", expected)
    assert page.input_value("#reply-text") == ""  # a fresh composer for the next one


def test_typing_a_shortcut_inserts_the_saved_reply(team, sandbox_x, login):
    mention = MentionFactory(channel=sandbox_x, author=AuthorFactory(name="Eva"))
    SavedReplyFactory(brand=team.brand, shortcut="thanks", body="Thank you, {{ author.name }}!")
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    page.click("#reply-text")
    page.keyboard.type("/thanks ")
    assert page.input_value("#reply-text") == "Thank you, Eva!"


def test_script_payloads_in_a_mention_render_as_text_and_never_run(team, sandbox_x, login):
    author = AuthorFactory(name="<img src=x onerror=alert('name')>", handle="evil")
    mention = MentionFactory(
        channel=sandbox_x,
        author=author,
        text="<script>alert('text')</script> <svg onload=alert(2)>",
        url="javascript:alert('url')",
    )
    SavedReplyFactory(brand=team.brand, shortcut="hi", body="Hi {{ author.name }}")
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("<script>alert('text')</script>", exact=False).first.is_visible()
    assert page.get_by_text("<img src=x onerror=alert('name')>", exact=False).first.is_visible()
    page.select_option("#saved-reply", "hi")
    assert page.input_value("#reply-text") == "Hi <img src=x onerror=alert('name')>"
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.dialogs == []


def test_a_queued_reply_turns_sent_on_screen_without_reloading(team, sandbox_x, login, monkeypatch):
    # No eager delivery here: the reply stays queued until "the worker" (this test) delivers it.
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    mention = MentionFactory(channel=sandbox_x, external_id="1861234567890123499")
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    page.fill("#reply-text", "We are looking into it.")
    page.get_by_role("button", name="Send reply").click()
    page.locator("#replies .reply.delivery-queued").wait_for()
    assert reply_deliver(reply_id=Reply.objects.get().pk).outcome == "sent"
    page.locator("#replies .reply.delivery-sent").wait_for(timeout=6_000)
    assert SandboxReply.objects.get().in_reply_to == "1861234567890123499"


def test_sending_after_someone_else_replied_asks_first(team, sandbox_x, login, monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    mention = MentionFactory(channel=sandbox_x)
    team.manager.first_name = "Marta"
    team.manager.save()
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    Reply.objects.create(mention=mention, author=team.manager, text="Marta's answer")  # while Carla types
    page.fill("#reply-text", "Carla's answer")
    page.get_by_role("button", name="Send reply").click()
    warning = page.get_by_role("alert")
    warning.wait_for()
    assert "Marta replied" in warning.inner_text() and "send anyway?" in warning.inner_text()
    assert page.input_value("#reply-text") == "Carla's answer"
    assert Reply.objects.count() == 1
    page.get_by_role("button", name="Send anyway").click()
    page.locator("#replies").get_by_text("Carla's answer").wait_for()
    assert Reply.objects.filter(author=team.cm, text="Carla's answer").exists()
