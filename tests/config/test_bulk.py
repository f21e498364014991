"""Ids taken ahead of an INSERT (``config.bulk.reserve_ids``), on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest

from config.bulk import insert_new, reserve_ids
from listening.models import Brand
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_new_increasing_and_never_given_to_a_later_insert() -> None:
    first = reserve_ids(Brand, 3)  # a table no row was inserted into yet, on SQLite
    assert len(first) == 3 and first == sorted(set(first))
    made = BrandFactory()
    assert made.pk > max(first)
    later = reserve_ids(Brand, 2)
    assert len(later) == 2 and later == sorted(set(later)) and min(later) > made.pk


def test_rows_are_stored_with_their_reserved_ids_and_later_rows_come_after_them() -> None:
    existing = BrandFactory()
    ids = reserve_ids(Brand, 2)
    assert min(ids) > existing.pk
    insert_new(Brand, [Brand(pk=pk, name=f"Reserved {pk}", slug=f"reserved-{pk}") for pk in ids])
    assert set(Brand.objects.filter(slug__startswith="reserved-").values_list("pk", flat=True)) == set(ids)
    assert BrandFactory().pk > max(ids)
    assert reserve_ids(Brand, 0) == []
