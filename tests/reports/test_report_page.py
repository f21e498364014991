from __future__ import annotations

import csv
import io
import json
import re

import pytest
import time_machine

from listening.models import Platform
from reports.models import ReportSubscription
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
