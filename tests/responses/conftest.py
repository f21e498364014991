"""Reply delivery runs the real client libraries against the recorded-payload server of the connector tests."""

from __future__ import annotations

from tests.listening.connectors.conftest import wire  # noqa: F401 - re-exported fixture
