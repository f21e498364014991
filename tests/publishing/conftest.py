"""Channels of the team's brand that can be posted to, on the recorded platform server."""

from __future__ import annotations

import pytest

from listening.models import Platform
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import wire  # noqa: F401 - the local platform server fixture

X_USER_ID = "1500000000000000001"
PAGE_ID = "104857600000001"
X_CREDENTIALS = {
    # Long as real ones: errors are scrubbed of every credential, and "at" would be scrubbed from words.
    "bearer_token": "AAAAbearer-token-0001",
    "consumer_key": "consumer-key-0001",
    "consumer_secret": "consumer-secret-0001",
    "access_token": "1500000000000000001-access-token",
    "access_token_secret": "access-token-secret-0001",
}


@pytest.fixture
def x_channel(team, wire):  # noqa: F811 - the fixture imported above
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        name="Acme on X",
        api_base_url=wire.url,
        settings={"user_id": X_USER_ID},
        credentials=X_CREDENTIALS,
    )


@pytest.fixture
def fb_channel(team, wire):  # noqa: F811 - the fixture imported above
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.FACEBOOK,
        name="Acme Page",
        api_base_url=wire.url,
        settings={"page_id": PAGE_ID},
        credentials={"page_access_token": "page-token"},
    )
