from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import time_machine

from listening.models import Platform
from reports.models import ReportSubscription
from responses.models import Reply
from tests.factories import AuthorFactory, MentionFactory
from tests.reports.conftest import NOW

URL = "/reports/?since=2026-03-01&until=2026-03-07"


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_manager_sees_the_numbers_and_the_chart_data(client, team, week):
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "how do i get a refund" in html
    assert f'href="/inbox/?brand={team.brand.pk}&amp;q=how+do+i+get+a+refund"' in html
    assert "log10(1 + followers) + log10(1 + engagement) + 2 * log10(1 + mentions)" in html
    assert "vendor/chart-4.6.1.umd.min.js" in html
    charts = json.loads(re.search(r'<script id="report-charts" type="application/json">(.*?)</script>', html).group(1))
    assert charts["volume"]["series"]["Negative"] == [0, 1, 2, 0, 0, 1, 0]
    assert charts["share_of_voice"]["series"] == {"Acme": [1, 2, 2, 0, 1, 1, 0], "Globex": [0, 0, 1, 1, 1, 0, 0]}


@pytest.mark.django_db
def test_permissions_and_brands(client, team, week):
    client.force_login(team.billing_member)
    assert client.get("/reports/").status_code == 403
    client.force_login(team.outsider)
    assert client.get(f"/reports/?brand={team.brand.pk}").status_code == 404
    assert client.get(f"/reports/export/volume.csv?brand={team.brand.pk}").status_code == 404
    assert client.get(f"/api/v1/reports/summary/?brand={team.brand.pk}").status_code == 400


@pytest.mark.django_db
def test_bad_dates_fall_back_on_the_page_and_are_400_in_the_api(client, team, week):
    client.force_login(team.manager)
    response = client.get(f"/reports/?brand={team.brand.pk}&since=2026-13-45")
    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.content.decode()
    assert client.get(f"/api/v1/reports/summary/?brand={team.brand.pk}&since=yesterday").status_code == 400
    assert (
        client.get(f"/api/v1/reports/summary/?brand={team.brand.pk}&since=2026-03-07&until=2026-03-01").status_code
        == 400
    )


@pytest.mark.django_db
def test_summary_api(client, team, week):
    client.force_login(team.manager)
    data = client.get("/api/v1/reports/summary/?brand=acme&since=2026-03-01&until=2026-03-07").json()
    assert data["mentions"]["total"] == 9
    assert data["mentions"]["negative"] == 4
    assert data["brand"] == team.brand.pk
    assert set(data["previous_mentions"]) == {"positive", "neutral", "negative", "unscored", "total", "net"}
    assert data["platforms"] == {"x": 6, "facebook": 3}
    assert data["share_of_voice"] == [
        {"label": "Acme", "mentions": 7, "share": 70.0, "mention_share": 77.8, "net": -0.143},
        {"label": "Globex", "mentions": 3, "share": 30.0, "mention_share": 33.3, "net": -0.5},
    ]
    assert data["first_response_minutes"] == {"median": 30.0, "p90": 120.0, "replied": 3}
    assert data["tickets"]["median_resolve_minutes"] == 1440.0
    assert data["tickets"]["sla_met_percent"] == 33.3
    assert data["tickets"]["sla_measured"] == 3
    assert data["tickets"]["followed_up_measured"] == 2


@pytest.mark.django_db
def test_table_csv(client, team, week):
    client.force_login(team.manager)
    rows = csv_rows(
        client.get(f"{URL}&brand={team.brand.pk}".replace("/reports/", "/reports/export/share_of_voice.csv"))
    )
    assert rows == [
        ["Name", "Share %", "Positive", "Neutral", "Negative", "Unscored", "Total", "Net sentiment"],
        ["Acme", "70.0", "3", "0", "4", "0", "7", "-0.143"],
        ["Globex", "30.0", "0", "1", "1", "1", "3", "-0.5"],
    ]
    assert client.get("/reports/export/nope.csv").status_code == 404


@pytest.mark.django_db
def test_inbox_csv_one_row_per_mention_guarded_against_formulas(client, team, week):
    MentionFactory(channel=week.mentions[1].channel, text='=HYPERLINK("http://evil")', published_at=NOW)
    client.force_login(team.cm)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("reports.exports.CHUNK", 3)  # several keyset chunks
        rows = csv_rows(client.get("/inbox/export.csv?sentiment=negative&since=2026-03-01"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["id", "published_at", "platform"]
    negative = [week.mentions[n] for n in (9, 4, 5, 3)]  # newest first
    assert [int(r[0]) for r in body] == [m.pk for m in negative]
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in body}
    four = by_id[week.mentions[4].pk]
    assert (four["terms"], four["analyzer_sentiment"], four["ticket_id"], four["ticket_status"]) == (
        "Globex; acme", "positive", str(week.tickets["billing2"].pk), "resolved",
    )  # fmt: skip
    one_day = csv_rows(client.get("/inbox/export.csv?sentiment=negative&since=2026-03-03&until=2026-03-03"))
    assert [int(r[0]) for r in one_day[1:]] == [week.mentions[4].pk, week.mentions[5].pk]  # until: the whole day
    rows = csv_rows(client.get("/inbox/export.csv?q=HYPERLINK"))
    assert rows[1][5] == '\'=HYPERLINK("http://evil")'
    client.force_login(team.outsider)
    assert len(csv_rows(client.get("/inbox/export.csv"))) == 1  # only the header: no other brand's mentions


@pytest.mark.django_db
def test_csv_exports_open_in_a_spreadsheet_without_stray_apostrophes_or_empty_authors(client, team, week):
    page_author = AuthorFactory(platform=Platform.FACEBOOK, handle="", name="Ana Núñez", external_id="fb-1")
    MentionFactory(channel=week.mentions[1].channel, author=page_author, text="¿Hay envíos?", published_at=NOW)
    client.force_login(team.manager)
    leaders = csv_rows(
        client.get(f"/reports/export/leaders.csv?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    )
    assert leaders[0][:3] == ["Rank", "Author", "Handle"]
    handles = [row[2] for row in leaders[1:]]
    assert "bigvoice" in handles and not any(h.startswith(("@", "'")) for h in handles)
    client.force_login(team.cm)
    rows = csv_rows(client.get("/inbox/export.csv?q=env%C3%ADos"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["author"], row["author_handle"], row["text"]) == ("Ana Núñez", "", "¿Hay envíos?")


@pytest.mark.django_db
def test_subscribe_toggle(client, team):
    client.force_login(team.manager)
    client.post("/reports/subscribe/", {"brand": team.brand.pk, "frequency": "daily", "action": "subscribe"})
    assert ReportSubscription.objects.get(user=team.manager).frequency == "daily"
    client.post("/reports/subscribe/", {"brand": team.brand.pk, "action": "unsubscribe"})
    assert not ReportSubscription.objects.exists()
    client.force_login(team.outsider)
    assert client.post("/reports/subscribe/", {"brand": team.brand.pk}).status_code == 404


def figures_of(html: str) -> dict[str, str]:
    """Each headline figure's text, whitespace squashed, by its data-figure key (first occurrence)."""
    out: dict[str, str] = {}
    for key, body in re.findall(r'<div class="card figure" data-figure="(\w+)">(.*?)</div>', html, re.S):
        out.setdefault(key, " ".join(re.sub(r"<[^>]+>", " ", body).split()))
    return out


@pytest.mark.django_db
def test_every_rate_says_what_it_rests_on_and_every_change_what_it_compares_with(client, team, week):
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"{URL}&brand={team.brand.pk}").content.decode()
    figures = figures_of(html)
    assert figures["mentions"] == "Mentions 9 in 7 days ▲ +800 % vs the previous 7 days, which had 1"
    assert (
        figures["negative"]
        == "Negative mentions 4 44.4 % of mentions ▲ +300 % vs the previous 7 days, which had 1 · worse"
    )
    # Net sentiment (3 - 4) / 8 scored against -1 before: up, and up is better.
    assert figures["net"] == (
        "Net sentiment -0.125 (positive - negative) / 8 scored mentions "
        "▲ +0.875 vs the previous 7 days, which had -1 · better"
    )
    assert figures["first_response"] == "First response, median 30 min of 3 replied mentions; 90 % within 120 min"
    assert figures["sla_met"] == "SLA met 33.3 % of 3 tickets with an SLA"
    assert figures["followed_up"] == "Resolved tickets followed up in public 50 % of 2 resolved tickets"
    assert 'class="change change-up change-worse"' in html  # the colour, beside the word


@pytest.mark.django_db
def test_a_rate_with_nothing_measured_shows_a_dash_and_the_zero_behind_it(client, team):
    MentionFactory(channel__brand=team.brand, published_at=NOW.replace(day=3))
    from reports.rollups import rollups_refresh

    rollups_refresh()
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        figures = figures_of(client.get(f"{URL}&brand={team.brand.pk}").content.decode())
    assert figures["sla_met"] == "SLA met — (0 tickets with an SLA)"
    assert figures["followed_up"] == "Resolved tickets followed up in public — (0 resolved tickets)"
    assert figures["first_response"] == "First response, median — (0 replied mentions)"
    assert figures["mentions"] == "Mentions 1 in 7 days ▲ up from 0 vs the previous 7 days"


def test_a_fall_in_something_bad_is_better_and_says_so():
    from reports.tables import change

    down = change(5, 10, 30, up="worse")
    assert (down.text, down.direction, down.verdict, down.verdict_text) == (
        "\u221250 % vs the previous 30 days, which had 10", "down", "better", "better",
    )  # fmt: skip
    assert change(10, 10, 30, up="worse").text == "no change vs the previous 30 days"
    assert change(None, 3, 30) is None  # nothing to compare: no change shown
    assert change(12, 10, 1).text == "+20 % vs the previous 1 day, which had 10"
    assert change(12, 10, 7, up="").verdict_text == ""  # volume: neither better nor worse


@pytest.mark.django_db
def test_long_runs_of_empty_days_fold_into_one_row_on_the_page_but_not_in_the_csv(client, team, week):
    client.force_login(team.manager)
    query = f"brand={team.brand.pk}&since=2026-02-01&until=2026-03-07"
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/reports/?{query}").content.decode()
        rows = csv_rows(client.get(f"/reports/export/volume.csv?{query}"))
    gaps = re.findall(r'<tr class="gap"><td colspan="7">(.*?)</td></tr>', html)
    # 25 February has the previous period's mention; 7 March alone is too short a run to fold.
    assert gaps == ["24 days without mentions (1 Feb to 24 Feb)", "3 days without mentions (26 Feb to 28 Feb)"]
    assert len(rows) == 1 + 35  # the CSV: every day, for a spreadsheet


@pytest.mark.django_db
def test_every_exported_author_has_a_name_or_handle_and_handles_have_no_at_sign(client, team, week):
    """A Facebook comment whose sender Graph leaves out still has an author in the CSV; handles
    sit in their own column without their '@' (no formula guard, no stray apostrophe)."""
    nobody = AuthorFactory(platform=Platform.FACEBOOK, handle="", name="", external_id="unknown")
    MentionFactory(channel=week.mentions[5].channel, author=nobody, text="sin remitente", published_at=NOW)
    client.force_login(team.cm)
    rows = csv_rows(client.get("/inbox/export.csv"))
    header, body = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "author" in header and "author_handle" in header
    assert all(r["author"] for r in body)
    assert not any(r["author_handle"].startswith(("@", "'")) for r in body)
    assert {r["author_handle"] for r in body} >= {"bigvoice", "angry"}
    client.force_login(team.manager)
    repeat = csv_rows(
        client.get(f"/reports/export/repeat_complaints.csv?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    )
    assert repeat[0] == ["Author", "Handle", "Negative mentions"]
    assert [r[1] for r in repeat[1:]] == ["angry"]


@pytest.mark.django_db
def test_a_faster_first_response_is_better_and_says_against_what(client, team, week):
    before = week.mentions[10]  # 25 February, in the 7 days before 1-7 March
    Reply.objects.create(
        mention=before, author=team.cm, text="sorry", status=Reply.Status.SENT,
        sent_at=before.published_at + timedelta(minutes=60),
    )  # fmt: skip
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        figures = figures_of(client.get(f"{URL}&brand={team.brand.pk}").content.decode())
    assert figures["first_response"] == (
        "First response, median 30 min of 3 replied mentions; 90 % within 120 min "
        "▼ \u221250 % vs the previous 7 days, which had 60 min · better"
    )
