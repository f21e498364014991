"""Every connector gives up on a platform that does not answer, as a transient error."""

from __future__ import annotations

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError
from listening.models import Platform
from tests.factories import ChannelFactory

RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
# path, settings, credentials, base URL suffix, and a valid empty answer (so only the wait can fail)
CASES = {
    Platform.X: ("/2/users/1/mentions", {"user_id": "1"}, {"bearer_token": "t"}, "", {"meta": {"result_count": 0}}),
    Platform.FACEBOOK: ("/v21.0/42/feed", {"page_id": "42"}, {"page_access_token": "t"}, "", {"data": []}),
    Platform.INSTAGRAM: ("/v21.0/17841/media", {"ig_user_id": "17841"}, {"page_access_token": "t"}, "", {"data": []}),
    Platform.LINKEDIN: (
        "/rest/posts",
        {"organization_id": "2414183", "skip_mentions": True},
        {"access_token": "t"},
        "",
        {"paging": {"start": 0, "count": 50, "links": []}, "elements": []},
    ),
    Platform.YOUTUBE: ("/youtube/v3/commentThreads", {"channel_id": "UC1"}, {"api_key": "k"}, "", {"items": []}),
    Platform.FEED: ("/feed.xml", {}, {}, "/feed.xml", RSS),
}


@pytest.mark.parametrize("platform", list(CASES))
def test_a_platform_that_hangs_is_a_transient_error(db, wire, settings, platform):
    settings.HTTP_TIMEOUT_SECONDS = 1
    path, channel_settings, credentials, suffix, body = CASES[platform]
    content_type = "application/rss+xml" if platform == Platform.FEED else "application/json"
    wire.add("GET", path, body=body, delay=2.5, content_type=content_type)
    for edge in ("visitor_posts", "tagged"):  # the Page's other edges answer at once
        wire.add("GET", f"/v21.0/42/{edge}", body={"data": []})
    channel = ChannelFactory(
        platform=platform, api_base_url=wire.url + suffix, settings=channel_settings, credentials=credentials
    )
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent
    assert len(wire.calls(path)) == 1  # asked once, then gave up: no retry loop inside the connector
