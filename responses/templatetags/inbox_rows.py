"""``{% mention_rows mentions %}``: the inbox's rows, fifty a page.

A row drawn by the template engine cost about two thousand Python calls (a lookup, a filter and an
escape per value, a node per tag), most of the page's server time. Here each row is one function
over the same markup: every value that comes from a mention, its author or the request is escaped
(a stranger writes the author's name, the text and both URLs), and the row's fixed words are
translated and escaped once per page. ``tests/responses/test_inbox_rows.py`` holds the template
this replaced and checks that both draw the same HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from listening.connectors._http import safe_url
from listening.models import Mention
from listening.templatetags.moments import ago
from responses.templatetags.cases import sla

register = template.Library()

LABELS = ("select", "verified", "unassigned", "language", "open", "original", "assign", "close", "spam")


def row_labels() -> dict[str, str]:
    """Each row's fixed words in the reader's language."""
    return {
        "select": _("Select"),
        "verified": _("Verified"),
        "unassigned": _("Unassigned"),
        "language": _("Language"),
        "open": pgettext("link that opens a mention", "Open"),
        "original": _("Original"),
        "assign": _("Assign to me"),
        "close": _("Close"),
        "spam": _("Spam"),
    }


def _escape(value: object) -> str:
    """``conditional_escape`` without its lazy-string wrapper: called some twenty times a row."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _sla_html(ticket: Any) -> str:
    return get_template("responses/_sla.html").render(sla(ticket))


def _row(mention: Mention, page: dict[str, str], oob: bool) -> str:
    """One row. ``page`` holds what every row of the page shares, escaped already."""
    e = _escape
    pk = str(mention.pk)
    channel = mention.channel
    author = mention.author
    profile = e(safe_url(author.profile_url))
    name = e(author.name or author.handle)
    tickets = getattr(mention, "live_tickets", None)
    assignee = mention.assignee
    if assignee is not None:
        who = e(assignee.get_full_name() or assignee.get_username())
    else:
        who = f"<small>{page['unassigned']}</small>"
    if mention.erased_reason:
        body = '<p class="erased">' + _("Removed: %(why)s.") % {"why": e(mention.erased_because)} + "</p>"
    else:
        body = f'<p class="text">{e(mention.text)}</p>'
    original = e(safe_url(mention.url))
    sentiment = e(mention.sentiment)
    return "".join(
        (
            f'<li id="mention-{pk}" class="mention sentiment-{sentiment} status-{e(mention.status)}" ',
            f'data-id="{pk}" data-open="/mentions/{pk}/"',
            ' hx-swap-oob="true">' if oob else ">",
            f'\n  <input type="checkbox" name="ids" value="{pk}" form="bulk" class="select" ',
            f'aria-label="{page["select"]}">',
            '\n  <div class="mention-body">\n    <div class="meta">',
            f'\n      <span class="platform platform-{e(channel.platform)}">{e(channel.platform_label)}</span>',
            '\n      <span class="author">\n        ',
            f'<a href="{profile}" rel="noopener noreferrer nofollow" target="_blank">' if profile else "",
            f'<strong class="author-name">{name}</strong>',
            "</a>" if profile else "",
            "\n        ",
            f'<span class="handle">@{e(author.handle)}</span>' if author.handle else "",
            "\n        ",
            f'<span class="verified" title="{page["verified"]}">✔</span>' if author.verified else "",
            "\n        ",
            f'<small class="followers">{e(author.followers_label)}</small>' if author.followers else "",
            "\n      </span>",
            f'\n      <span class="badge sentiment-label sentiment-{sentiment}">{e(mention.sentiment_label)}</span>',
            "\n      ",
            f'<span class="badge intent intent-{e(mention.intent)}">{e(mention.intent_label)}</span>'
            if mention.intent != "unclassified"
            else "",
            f'\n      <span class="badge status">{e(mention.status_label)}</span>',
            "\n      ",
            f'<span class="badge moderation moderation-{e(mention.moderation)}">{e(mention.moderation_label)}</span>'
            if mention.moderation
            else "",
            "\n      ",
            _sla_html(tickets[0]) if tickets else "",
            f'\n      <span class="assignee">{who}</span>',
            "\n      ",
            f'<span class="language" title="{page["language"]}">{e(mention.language)}</span>'
            if mention.language
            else "",
            "\n      ",
            ago(mention.published_at),
            "\n    </div>\n    ",
            f'<h2 class="title">{e(mention.title)}</h2>' if mention.title else "",
            "\n    ",
            body,
            '\n    <div class="foot">\n      ',
            "".join(f'<span class="term term-{e(kind)}">{e(label)}</span>' for kind, label in mention.term_labels),
            f'\n      <a href="/mentions/{pk}/" class="open">{page["open"]}</a>',
            "\n      ",
            f'<a href="{original}" class="original" rel="noopener noreferrer nofollow" target="_blank">'
            f"{page['original']}</a>"
            if original
            else "",
            '\n      <form method="post" action="/inbox/bulk/" hx-post="/inbox/bulk/" hx-target="#bulk-result" '
            'hx-swap="outerHTML" class="quick">',
            f'\n        <input type="hidden" name="csrfmiddlewaretoken" value="{page["csrf_token"]}">',
            f'\n        <input type="hidden" name="ids" value="{pk}">',
            f'\n        <input type="hidden" name="next" value="{page["next"]}">',
            f'\n        <button type="submit" name="action" value="assign" data-key="a">{page["assign"]}</button>',
            f'\n        <button type="submit" name="action" value="close" data-key="e">{page["close"]}</button>',
            f'\n        <button type="submit" name="action" value="spam" data-key="s">{page["spam"]}</button>',
            "\n      </form>\n    </div>\n  </div>\n</li>",
        )
    )


def render_rows(
    mentions: Iterable[Mention], *, csrf_token: object, filter_query: str = "", oob: bool = False
) -> SafeString:
    """The rows of ``mentions``; ``oob`` marks each to replace its namesake on the page (htmx)."""
    labels = row_labels()
    page = {key: _escape(labels[key]) for key in LABELS}
    page["csrf_token"] = _escape(csrf_token)
    page["next"] = _escape(f"/inbox/?{filter_query}" if filter_query else "/inbox/")
    # Every value in the markup is escaped above or in _row.
    return mark_safe("".join(_row(mention, page, oob) for mention in mentions))  # noqa: S308


@register.simple_tag(takes_context=True)
def mention_rows(context: template.Context, mentions: Iterable[Mention], oob: bool = False) -> SafeString:
    """The rows of ``mentions`` with the page's CSRF token and filters (``filter_query``)."""
    return render_rows(
        mentions,
        csrf_token=context.get("csrf_token", ""),
        filter_query=context.get("filter_query", ""),
        oob=oob,
    )
