"""An RSS 2.0 alert feed, as feedparser reads it, answering conditional GETs with 304."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET

from sandbox.common import etag_for
from sandbox.models import SandboxPost


@require_GET
def rss(request: HttpRequest) -> HttpResponse:
    articles = list(SandboxPost.objects.filter(platform="feed").order_by("-sort_key")[:50])
    etag = '"' + etag_for("rss", *(a.external_id for a in articles[:1]), len(articles)) + '"'
    last_modified = articles[0].created_at if articles else datetime(2026, 1, 1, tzinfo=UTC)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    since = request.headers.get("If-Modified-Since")
    if since and not request.headers.get("If-None-Match"):
        try:
            if last_modified.replace(microsecond=0) <= parsedate_to_datetime(since):
                return HttpResponseNotModified(headers={"ETag": etag})
        except (TypeError, ValueError):
            pass
    entries = []
    for article in articles:
        entries.append(
            "<item>"
            f"<title>{escape(article.payload.get('title', ''))}</title>"
            f"<link>{escape(article.payload.get('link', ''))}</link>"
            f'<guid isPermaLink="false">{escape(article.external_id)}</guid>'
            f"<pubDate>{format_datetime(article.created_at.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<dc:creator>{escape(article.author.get('name', ''))}</dc:creator>"
            f"<description>{escape(article.text)}</description>"
            "</item>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Acme in the news and forums</title><link>https://news.techpress.example/</link>"
        "<description>Sandbox alert feed for Acme</description><language>en</language>"
        + "".join(entries)
        + "</channel></rss>"
    )
    headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True)}
    return HttpResponse(xml, content_type="application/rss+xml; charset=utf-8", headers=headers)
