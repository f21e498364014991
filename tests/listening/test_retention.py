"""Retention: each brand's mentions older than its period are erased nightly, in batches, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.roles import ADMIN
from listening.models import Author, ErasureReason, Mention, PrivacyAuditEntry
from listening.privacy import retention_run
from listening.tasks import retention_run as retention_task
from tests.factories import MentionFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def aged(brand, days: int, text: str) -> Mention:
    return MentionFactory(channel__brand=brand, published_at=NOW - timedelta(days=days), text=text)


def test_mentions_past_the_period_are_erased_oldest_first_in_bounded_runs(team):
    team.brand.retention_days = 30
    team.brand.save()
    old = [aged(team.brand, days, f"old {days}") for days in (400, 300, 200, 31)]
    kept = aged(team.brand, 29, "recent")
    MentionFactory(channel=kept.channel, author=old[0].author, published_at=NOW - timedelta(days=3))
    other = aged(team.other_brand, 400, "another brand keeps two years")

    first = retention_run(brand=team.brand, now=NOW, batch_size=2, limit=3)
    assert first["listening.Mention"] == 3
    assert set(Mention.objects.filter(erased_at__isnull=False).values_list("pk", flat=True)) == {m.pk for m in old[:3]}

    retention_run(brand=team.brand, now=NOW, batch_size=2)  # the next night finishes
    for mention in Mention.objects.filter(pk__in=[m.pk for m in old]):
        assert mention.erased_reason == ErasureReason.RETENTION and mention.text == ""
    assert Mention.objects.get(pk=kept.pk).text == "recent"
    assert Mention.objects.get(pk=other.pk).text == "another brand keeps two years"
    # Profiles left without any mention go; one who still has a recent mention stays.
    assert not Author.objects.filter(pk__in=[m.author_id for m in old[1:]]).exists()
    assert Author.objects.filter(pk__in=[old[0].author_id, kept.author_id]).count() == 2

    runs = PrivacyAuditEntry.objects.filter(action="retention").order_by("pk")
    assert [(r.brand, r.mode, r.counts["listening.Mention"]) for r in runs] == [
        (team.brand, "anonymise", 3),
        (team.brand, "anonymise", 1),
    ]
    assert retention_run(brand=team.brand, now=NOW) == {}  # nothing left: nothing recorded
    assert runs.count() == 2


def test_the_nightly_task_runs_every_brand_the_brands_way(team, time_machine):
    time_machine.move_to(NOW)
    team.brand.retention_days, team.brand.retention_mode = 10, "delete"
    team.brand.save()
    mention = aged(team.brand, 11, "gone")
    ticket = TicketFactory(mention=mention, department=team.billing)
    assert retention_task() == 1
    mention.refresh_from_db()
    assert mention.erased_reason == ErasureReason.RETENTION and mention.tags == []
    assert PrivacyAuditEntry.objects.get().mode == "delete"
    assert ticket.__class__.objects.filter(pk=ticket.pk).exists()


def test_the_retention_page_shows_what_goes_next_and_what_went(client, team, time_machine):
    time_machine.move_to(NOW)
    admin = UserFactory(username="ada", roles=[ADMIN])
    team.brand.retention_days = 30
    team.brand.save()
    aged(team.brand, 40, "due")
    aged(team.brand, 25, "due within the week")
    aged(team.brand, 5, "fresh")
    client.force_login(team.cm)
    assert client.get("/privacy/retention/").status_code == 403

    client.force_login(admin)
    page = client.get("/privacy/retention/").content.decode()
    row = page[page.index("<td>Acme</td>") : page.index("</tr>", page.index("<td>Acme</td>"))]
    assert [cell.strip() for cell in row.split("<td>")[3:5]] == ["1</td>", "1</td>"]
    assert "No retention run has erased anything yet." in page

    saved = client.post("/privacy/retention/", {"brand": team.brand.pk, f"b{team.brand.pk}-retention_days": "3",
                                                 f"b{team.brand.pk}-retention_mode": "delete"})  # fmt: skip
    assert saved.status_code == 302
    team.brand.refresh_from_db()
    assert (team.brand.retention_days, team.brand.retention_mode) == (3, "delete")
    refused = client.post("/privacy/retention/", {"brand": team.brand.pk, f"b{team.brand.pk}-retention_days": "0",
                                                   f"b{team.brand.pk}-retention_mode": "delete"})  # fmt: skip
    assert refused.status_code == 200
    team.brand.refresh_from_db()
    assert team.brand.retention_days == 3

    retention_run(brand=team.brand)
    page = client.get("/privacy/retention/").content.decode()
    assert "No retention run has erased anything yet." not in page
