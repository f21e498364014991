"""A person's stored profile refreshed from what a page says of them (``listening.ingest``)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from listening.connectors import FetchedAuthor
from listening.ingest import AUTHOR_COLUMNS, AUTHOR_FIELDS, AUTHOR_ROW, _kept_known, _profile


def refreshed_field_by_field(person: FetchedAuthor, known: tuple[Any, ...]) -> tuple[Any, ...]:
    """The rule, field by field: what the source does not know (an empty value; verified, when it
    knows neither followers nor handle) stays as it was."""
    profile = _profile(person)
    unknown = {f for f, value in zip(AUTHOR_FIELDS, profile, strict=True) if not value and f != "verified"}
    if not person.followers and not person.handle:
        unknown.add("verified")
    return tuple(old if f in unknown else new for f, new, old in zip(AUTHOR_FIELDS, profile, known, strict=True))


texts = st.sampled_from(["", "a", "0", " "])
people = st.builds(
    FetchedAuthor,
    external_id=st.just("1"),
    handle=texts,
    name=texts,
    followers=st.none() | st.integers(-2, 2),
    verified=st.booleans(),
    profile_url=texts,
    avatar_url=texts,
)
known_profiles = st.tuples(texts, texts, st.integers(0, 2), st.booleans(), texts, texts)


@given(person=people, known=known_profiles)
def test_what_a_source_does_not_know_of_a_person_stays_as_it_was(person: FetchedAuthor, known: tuple) -> None:
    assert _kept_known(_profile(person), known, person) == refreshed_field_by_field(person, known)


def test_a_persons_row_is_written_in_the_models_column_order() -> None:
    # The instance of a new person is made from the row written, by position.
    assert AUTHOR_COLUMNS == ("id", *AUTHOR_ROW)
