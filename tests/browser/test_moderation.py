"""Hiding and deleting an Instagram comment from the mention page, in real Chromium, against the
sandbox's Instagram: the community manager sees the buttons, the history records the change, a
delete asks first; a department member working the case sees no button at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from listening.models import Mention, MentionEvent, Platform
from sandbox import generator
from sandbox.models import SandboxPost
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "17950000000000777"


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """The shared page, except that a confirmation is answered as ``page.confirm`` says (cancel
    unless set), and the questions asked are kept in ``page.dialogs``."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.dialogs = []
    page.confirm = False

    def answer(dialog) -> None:
        page.dialogs.append(dialog.message)
        dialog.accept() if page.confirm else dialog.dismiss()

    page.on("dialog", answer)
    yield page
    context.close()


@pytest.fixture
def instagram_comment(team, live_server, settings) -> Mention:
    settings.SITE_URL = live_server.url
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.INSTAGRAM,
        name="Acme on Instagram (sandbox)",
        api_base_url=f"{live_server.url}/sandbox/instagram",
        settings={"ig_user_id": generator.IG_USER_ID, "graph_version": "v21.0"},
        credentials={"page_access_token": "sandbox-page-token"},
    )
    text = "Cheap followers here 👉 <b>bit.ly/xx</b>"
    SandboxPost.objects.create(
        platform="instagram",
        external_id=COMMENT,
        kind="comment",
        text=text,
        thread_external_id=COMMENT,
        sort_key=1,
        payload={"media_id": generator.IG_MEDIA[0][0], "author": {"id": "17841455500000099", "handle": "promo.4u"}},
        created_at=timezone.now(),
    )
    author = AuthorFactory(handle="promo.4u", name="promo.4u")
    return MentionFactory(channel=channel, author=author, external_id=COMMENT, kind=Mention.Kind.COMMENT, text=text)


def test_a_community_manager_hides_then_deletes_after_confirming(team, instagram_comment, login):
    team.cm.first_name, team.cm.last_name = "Carla", "Méndez"
    team.cm.save()
    page = login(team.cm)
    page.goto(f"/mentions/{instagram_comment.pk}/")
    assert page.get_by_text("Cheap followers here 👉 <b>bit.ly/xx</b>").is_visible()  # shown as text

    page.get_by_role("button", name="Hide on Instagram").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#moderation").get_by_text("Hidden on the platform").is_visible()
    assert page.get_by_role("button", name="Show again on Instagram").is_visible()
    history = page.locator("#history")
    assert "Hidden on the platform" in history.inner_text()
    assert "Carla" in history.inner_text()
    assert SandboxPost.objects.get(external_id=COMMENT).payload["hidden"] is True

    # Cancelled: nothing is sent, the comment stays.
    delete = page.get_by_role("button", name="Delete on Instagram")
    delete.click()
    assert page.dialogs == ["Delete this comment on Instagram for good?"]
    assert SandboxPost.objects.filter(external_id=COMMENT).exists()
    assert delete.is_visible()

    page.confirm = True
    delete.click()
    page.wait_for_load_state("networkidle")
    page.locator("#moderation").get_by_text("Deleted on the platform").wait_for()
    assert not SandboxPost.objects.filter(external_id=COMMENT).exists()
    assert page.get_by_role("button", name="Delete on Instagram").count() == 0
    assert page.get_by_role("button", name="Show again on Instagram").count() == 0
    assert "Deleted on the platform" in page.locator("#history").inner_text()
    moves = instagram_comment.events.filter(kind=MentionEvent.Kind.MODERATED).order_by("pk")
    assert list(moves.values_list("new_value", flat=True)) == ["hidden", "deleted"]


def test_a_department_member_sees_the_case_without_the_buttons(team, instagram_comment, login):
    TicketFactory(mention=instagram_comment, department=team.billing, subject="Spam under our post")
    page = login(team.billing_member)
    page.goto(f"/mentions/{instagram_comment.pk}/")
    assert page.get_by_text("Cheap followers here").is_visible()
    assert page.get_by_role("button", name="Hide on Instagram").count() == 0
    assert page.get_by_role("button", name="Delete on Instagram").count() == 0
    assert SandboxPost.objects.get(external_id=COMMENT).payload.get("hidden") is None
