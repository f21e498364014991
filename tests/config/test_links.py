"""Links built from a reversed pattern are the links ``reverse`` builds, whatever the script prefix."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from config.links import reverse_id


@pytest.mark.parametrize("prefix", ["/", "/escucha/"])
def test_a_link_to_an_objects_page_is_what_reverse_builds(prefix: str) -> None:
    set_script_prefix(prefix)
    try:
        for viewname in ("responses:ticket_detail", "responses:mention_detail"):
            for pk in (1, 98, 9876543210123, 2**40):
                assert reverse_id(viewname, pk) == reverse(viewname, args=[pk])
        assert reverse_id("responses:ticket_detail", 5) == f"{prefix}tickets/5/"
    finally:
        set_script_prefix("/")
