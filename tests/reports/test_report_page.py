from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_smoke(client, team):
    client.force_login(team.manager)
    r = client.get("/reports/")
    assert r.status_code == 200, r.content[:2000]
