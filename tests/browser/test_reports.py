"""A manager opens the report in real Chromium and sees the charts drawn."""

from __future__ import annotations

import pytest

from reports.rollups import rollups_refresh
from tests.factories import AuthorFactory, MentionFactory
from tests.reports.conftest import at, week  # noqa: F401 (the known week, a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_sees_every_chart_drawn_beside_its_table(team, week, login) -> None:  # noqa: F811
    hostile = AuthorFactory(handle='<img src=x onerror="alert(1)">', followers=10**9)
    MentionFactory(
        channel=week.mentions[1].channel, author=hostile, published_at=at(6), text="<script>alert(2)</script>"
    )
    rollups_refresh(days=[at(6).date()])
    page = login(team.manager)
    page.goto(f"/reports/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 7
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.chart)")
    # Drawn, not blank: the volume chart has bars with pixels on them.
    painted = page.evaluate(
        """() => {
        const c = document.querySelector('canvas[data-chart=volume]');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) n++;
        return {n, total: c.chart.data.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0)};
        }"""
    )
    assert painted["total"] == 10
    assert painted["n"] > 1000
    assert page.get_by_role("table").filter(has_text="Share of voice").get_by_text("70.0").is_visible()
    assert page.get_by_text('<img src=x onerror="alert(1)">').first.is_visible()  # shown as text
    assert page.dialogs == []
