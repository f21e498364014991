"""A person's language: kept on their profile by the header's switcher, taken back at sign-in on any
browser, and used for everything Escucha tells them, whoever's action caused it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone, translation

from listening.services import mention_set_status
from responses.models import Notification, Profile, Ticket
from responses.tickets import ticket_assign, ticket_open, ticket_transition
from tests.factories import ChannelFactory, MentionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_switcher_keeps_the_choice_and_the_next_sign_in_anywhere_speaks_it(team) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(team.cm)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/inbox/"})
    assert response.status_code == 302
    assert Profile.objects.get(user=team.cm).language == "es"
    assert client.get("/inbox/").headers["Content-Language"] == "es"

    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en")  # another browser, asking for English
    elsewhere.force_login(team.cm)
    response = elsewhere.get("/inbox/")
    assert response.headers["Content-Language"] == "es"
    assert "Bandeja de entrada" in response.content.decode()


def test_an_unknown_language_is_not_kept(team) -> None:
    client = Client()
    client.force_login(team.cm)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/inbox/"})
    assert not Profile.objects.filter(user=team.cm).exists()


def test_without_a_choice_the_browser_decides_the_screen_and_the_site_the_emails(team, settings) -> None:
    from responses.preferences import user_languages

    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(team.cm)
    assert client.get("/inbox/").headers["Content-Language"] == "es"
    assert user_languages([team.cm]) == {team.cm.pk: settings.LANGUAGE_CODE}


def test_notifications_and_emails_are_written_in_each_recipients_language(
    team, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    Profile.objects.update_or_create(user=team.billing_member, defaults={"language": "es"})
    english_colleague = UserFactory(username="ed", email="ed@example.com")
    team.billing.members.add(english_colleague)
    Profile.objects.update_or_create(user=english_colleague, defaults={"language": "en"})
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):  # the CM works in English
        ticket, _ = ticket_open(mention=mention, department=team.billing, actor=team.cm)
        ticket_assign(ticket=ticket, assignee=team.billing_member, actor=team.cm)
    spanish = Notification.objects.filter(user=team.billing_member).order_by("pk")
    assert [n.message.split(" #")[0] for n in spanish] == ["Nuevo ticket", "Ticket"]
    assert "asignado" in spanish[1].message
    english = Notification.objects.get(user=english_colleague)
    assert english.message.startswith("New ticket #")
    to_bruno = [m for m in mailoutbox if m.to == [team.billing_member.email]]
    assert to_bruno and all("Nuevo ticket" in m.subject or "asignado" in m.subject for m in to_bruno)


def test_a_resolution_reaches_a_spanish_community_manager_in_spanish(team, django_capture_on_commit_callbacks) -> None:
    Profile.objects.update_or_create(user=team.cm, defaults={"language": "es"})
    ticket, _ = ticket_open(mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing)
    ticket_transition(ticket=ticket, to_status=Ticket.Status.ACKNOWLEDGED, actor=team.billing_member)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=ticket, to_status=Ticket.Status.RESOLVED, actor=team.billing_member, resolution="ok")
    message = Notification.objects.get(user=team.cm, verb="ticket_resolved").message
    assert "resuelto" in message and "resolved" not in message


def test_history_shows_statuses_as_the_readers_words(team) -> None:
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    mention_set_status(mention=mention, status="routed", actor=team.cm)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(team.cm)
    page = client.get(f"/mentions/{mention.pk}/").content.decode()
    assert "Nueva → Derivada" in page
    assert "new → routed" not in page
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    Profile.objects.filter(user=team.cm).update(language="en")
    english.force_login(team.cm)
    assert "New → Routed" in english.get(f"/mentions/{mention.pk}/").content.decode()


def test_a_ticket_timeline_names_statuses_and_deadlines_in_spanish(team) -> None:
    ticket, _ = ticket_open(mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing)
    ticket_transition(ticket=ticket, to_status=Ticket.Status.ACKNOWLEDGED, actor=team.billing_member)
    ticket.events.create(kind="breach", body="resolve")
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(team.billing_member)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Abierto → Confirmado" in page
    assert "plazo de resolución" in page
    assert "open → acknowledged" not in page


@pytest.mark.parametrize("members", [("es",), ("es", "en"), ("en", "es")])
def test_a_departments_address_hears_of_a_ticket_in_the_current_language_whatever_its_members_read(
    team, django_capture_on_commit_callbacks, mailoutbox, members
) -> None:
    team.billing.members.clear()
    for n, language in enumerate(members):
        member = UserFactory(username=f"member{n}", email=f"member{n}@example.com")
        team.billing.members.add(member)
        Profile.objects.update_or_create(user=member, defaults={"language": language})
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="refund please")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        ticket, _ = ticket_open(mention=mention, department=team.billing, actor=team.cm)
    to_address = [m for m in mailoutbox if m.to == [team.billing.email]]
    assert [m.subject for m in to_address] == [f"[Escucha] New ticket #{ticket.pk} for Billing: refund please"]
    by_member = {m.to[0]: m.subject for m in mailoutbox if m.to != [team.billing.email]}
    assert sorted(by_member.values()) == sorted(
        f"[Escucha] {'Nuevo' if language == 'es' else 'New'} ticket #{ticket.pk} "
        f"{'para' if language == 'es' else 'for'} Billing: refund please"
        for language in members
    )


def test_users_read_with_their_profiles_cost_no_query_for_their_languages(
    team, settings, django_assert_num_queries
) -> None:
    from django.contrib.auth import get_user_model

    from responses.preferences import user_languages

    Profile.objects.update_or_create(user=team.billing_member, defaults={"language": "es"})
    Profile.objects.update_or_create(user=team.manager, defaults={"language": ""})
    ids = [team.cm.pk, team.billing_member.pk, team.manager.pk]
    read = list(get_user_model().objects.filter(pk__in=ids).select_related("profile").order_by("pk"))
    expected = {
        team.cm.pk: settings.LANGUAGE_CODE,
        team.billing_member.pk: "es",
        team.manager.pk: settings.LANGUAGE_CODE,
    }

    with django_assert_num_queries(0):  # the profiles came with the users, one of them with none
        assert user_languages(read) == expected
    # Users read without them: their profiles are read, once, for all of them.
    plain = list(get_user_model().objects.filter(pk__in=ids))
    with django_assert_num_queries(1):
        assert user_languages([*plain, read[1]]) == expected


def test_a_routed_page_tells_each_member_in_their_language_without_reading_profiles_apart(
    team, django_capture_on_commit_callbacks
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import Platform
    from tests.factories import RoutingRuleFactory

    Profile.objects.update_or_create(user=team.billing_member, defaults={"language": "es"})
    english_colleague = UserFactory(username="ed", email="ed@example.com")
    team.billing.members.add(english_colleague)
    RoutingRuleFactory(
        brand=team.brand, name="Refunds", conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
        actions=[{"type": "ticket", "department": team.billing.pk}, {"type": "notify", "user": team.cm.pk}],
    )  # fmt: skip
    Profile.objects.update_or_create(user=team.cm, defaults={"language": "es"})
    said = FetchedItem(
        external_id="1", text="refund please", author=FetchedAuthor(external_id="a1", handle="h1"),
        published_at=timezone.now(),
    )  # fmt: skip
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with translation.override("en"), django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=[said])

    # The members of the ticket's department and the rule's user were read with their profiles.
    assert not [q for q in queries if q["sql"].startswith('SELECT "responses_profile"')]
    opened = dict(Notification.objects.filter(verb="ticket_opened").values_list("user_id", "message"))
    assert opened[team.billing_member.pk].startswith("Nuevo ticket #")
    assert opened[english_colleague.pk].startswith("New ticket #")
    assert Notification.objects.get(verb="rule", user=team.cm).message.startswith("La regla")
