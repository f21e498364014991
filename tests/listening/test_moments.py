"""``{% ago %}``: how long ago, as Django's ``timesince`` says it, in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation
from django.utils.timesince import timesince

from listening.templatetags.moments import ago

NOW = datetime(2026, 3, 31, 12, 30, tzinfo=UTC)
AGES = [
    timedelta(seconds=20),
    timedelta(minutes=1),
    timedelta(minutes=5, seconds=59),
    timedelta(hours=1),
    timedelta(hours=2, minutes=1),
    timedelta(days=1),
    timedelta(days=3, hours=2),
    timedelta(days=8),
    timedelta(days=31),
    timedelta(days=45),
    timedelta(days=365),
    timedelta(days=800),
    timedelta(minutes=-5),  # a clock a little ahead: "0 minutes"
]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_age_reads_as_timesince_says_it(language) -> None:
    with translation.override(language), time_machine.travel(NOW, tick=False):
        for age in AGES:
            moment = NOW - age
            words = translation.gettext("%(age)s ago") % {"age": timesince(moment)}
            assert f">{words}</time>" in ago(moment)
            # Twice: the second time from the cache of units.
            assert f">{words}</time>" in ago(moment)


def test_the_age_follows_the_language_of_each_request() -> None:
    moment = NOW - timedelta(days=3, hours=2)
    with time_machine.travel(NOW, tick=False):
        with translation.override("es"):
            spanish = ago(moment)
        with translation.override("en"):
            english = ago(moment)
    assert "3\xa0days, 2\xa0hours ago" in english
    assert "días" in spanish and "days" not in spanish
