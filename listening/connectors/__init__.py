"""Platform connectors: one module per platform, one contract (``base.Connector``)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from listening.connectors._http import OutboundRefused, destination_refusal, scrub_error
from listening.connectors.base import (
    AccountPost,
    Connector,
    ConnectorError,
    DeletionCheck,
    FetchedAuthor,
    FetchedItem,
    FetchResult,
    PostedReply,
    RateBudget,
    RateLimited,
    SettingField,
)

if TYPE_CHECKING:
    from listening.models import Channel

# platform → "module:Class"; modules are imported on first use so a missing optional client
# library only breaks its own platform.
CONNECTORS = {
    "x": "listening.connectors.x:XConnector",
    "facebook": "listening.connectors.facebook:FacebookConnector",
    "instagram": "listening.connectors.instagram:InstagramConnector",
    "youtube": "listening.connectors.youtube:YouTubeConnector",
    "linkedin": "listening.connectors.linkedin:LinkedInConnector",
    "feed": "listening.connectors.feeds:FeedConnector",
}


def connector_class(platform: str) -> type[Connector]:
    module_name, _, class_name = CONNECTORS[platform].partition(":")
    return getattr(import_module(module_name), class_name)


def item_link(platform: str, external_id: str) -> str:
    """The public address of a platform item known only by its id, or ""."""
    if not external_id or platform not in CONNECTORS:
        return ""
    return connector_class(platform).item_url(external_id)


def get_connector(channel: Channel) -> Connector:
    return connector_class(channel.platform)(channel)


__all__ = [
    "AccountPost",
    "Connector",
    "ConnectorError",
    "DeletionCheck",
    "FetchResult",
    "FetchedAuthor",
    "FetchedItem",
    "OutboundRefused",
    "PostedReply",
    "RateBudget",
    "RateLimited",
    "SettingField",
    "connector_class",
    "destination_refusal",
    "get_connector",
    "item_link",
    "scrub_error",
]
