"""The inbox's rows, drawn by ``{% mention_rows %}`` instead of the template engine: the same HTML
as the template they replaced, whatever a stranger wrote, in English and in Spanish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from listening.models import ErasureReason, Intent, Mention, Sentiment, TrackedTerm
from responses.models import SlaPolicy
from responses.selectors import inbox_rows
from responses.templatetags.inbox_rows import render_rows, row_labels
from responses.tickets import ticket_open
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, TrackedTermFactory, UserFactory

pytestmark = pytest.mark.django_db

# The row as the template engine drew it before: the reference the new way must match.
TEMPLATE_ROW = """{% load i18n l10n mention_links moments cases %}{% localize off %}<li id="mention-{{ mention.pk }}" class="mention sentiment-{{ mention.sentiment }} status-{{ mention.status }}" data-id="{{ mention.pk }}" data-open="/mentions/{{ mention.pk }}/"{% if oob %} hx-swap-oob="true"{% endif %}>
  <input type="checkbox" name="ids" value="{{ mention.pk }}" form="bulk" class="select" aria-label="{{ labels.select }}">
  <div class="mention-body">
    <div class="meta">
      <span class="platform platform-{{ mention.channel.platform }}">{{ mention.channel.platform_label }}</span>
      {% with author=mention.author %}<span class="author">
        {% with profile=author.profile_url|http_only %}{% if profile %}<a href="{{ profile }}" rel="noopener noreferrer nofollow" target="_blank">{% endif %}<strong class="author-name">{{ author.name|default:author.handle }}</strong>{% if profile %}</a>{% endif %}{% endwith %}
        {% if author.handle %}<span class="handle">@{{ author.handle }}</span>{% endif %}
        {% if author.verified %}<span class="verified" title="{{ labels.verified }}">✔</span>{% endif %}
        {% if author.followers %}<small class="followers">{{ author.followers_label }}</small>{% endif %}
      </span>{% endwith %}
      <span class="badge sentiment-label sentiment-{{ mention.sentiment }}">{{ mention.sentiment_label }}</span>
      {% if mention.intent != "unclassified" %}<span class="badge intent intent-{{ mention.intent }}">{{ mention.intent_label }}</span>{% endif %}
      <span class="badge status">{{ mention.status_label }}</span>
      {% if mention.moderation %}<span class="badge moderation moderation-{{ mention.moderation }}">{{ mention.moderation_label }}</span>{% endif %}
      {% if mention.live_tickets %}{% sla mention.live_tickets.0 %}{% endif %}
      <span class="assignee">{% if mention.assignee %}{{ mention.assignee.get_full_name|default:mention.assignee.get_username }}{% else %}<small>{{ labels.unassigned }}</small>{% endif %}</span>
      {% if mention.language %}<span class="language" title="{{ labels.language }}">{{ mention.language }}</span>{% endif %}
      {% ago mention.published_at %}
    </div>
    {% if mention.title %}<h2 class="title">{{ mention.title }}</h2>{% endif %}
    {% if mention.erased_reason %}<p class="erased">{% blocktranslate with why=mention.erased_because %}Removed: {{ why }}.{% endblocktranslate %}</p>{% else %}<p class="text">{{ mention.text }}</p>{% endif %}
    <div class="foot">
      {% for kind, label in mention.term_labels %}<span class="term term-{{ kind }}">{{ label }}</span>{% endfor %}
      <a href="/mentions/{{ mention.pk }}/" class="open">{{ labels.open }}</a>
      {% with original=mention.url|http_only %}{% if original %}<a href="{{ original }}" class="original" rel="noopener noreferrer nofollow" target="_blank">{{ labels.original }}</a>{% endif %}{% endwith %}
      <form method="post" action="/inbox/bulk/" hx-post="/inbox/bulk/" hx-target="#bulk-result" hx-swap="outerHTML" class="quick">
        <input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}">
        <input type="hidden" name="ids" value="{{ mention.pk }}">
        <input type="hidden" name="next" value="/inbox/{% if filter_query %}?{{ filter_query }}{% endif %}">
        <button type="submit" name="action" value="assign" data-key="a">{{ labels.assign }}</button>
        <button type="submit" name="action" value="close" data-key="e">{{ labels.close }}</button>
        <button type="submit" name="action" value="spam" data-key="s">{{ labels.spam }}</button>
      </form>
    </div>
  </div>
</li>{% endlocalize %}"""

HOSTILE = "<script>alert('x')</script> & \"quoted\" {{ not_a_variable }} %(why)s"


def template_row(mention: Mention, *, filter_query: str, csrf_token: str, oob: bool) -> str:
    context = {
        "mention": mention,
        "labels": row_labels(),
        "filter_query": filter_query,
        "csrf_token": csrf_token,
        "oob": oob,
    }
    return engines["django"].from_string(TEMPLATE_ROW).render(context)


@pytest.fixture
def mentions(team) -> list[Mention]:
    channel = ChannelFactory(brand=team.brand)
    hostile_author = AuthorFactory(
        name=HOSTILE,
        handle="<b>handle</b>&",
        verified=True,
        followers=1,
        profile_url='https://example.com/"><script>alert(1)</script>',
    )
    quiet_author = AuthorFactory(name="", handle="plain", followers=0, profile_url="javascript:alert(1)")
    nameless = UserFactory(username="<i>nameless</i>", first_name="", last_name="")
    named = UserFactory(username="named", first_name="Ana <b>", last_name="& Co")
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="<Globex>")
    rows = [
        MentionFactory(
            channel=channel,
            author=hostile_author,
            text=HOSTILE,
            title=HOSTILE,
            url='https://example.com/?a=1&b=<2>"',
            sentiment=Sentiment.NEGATIVE,
            intent=Intent.COMPLAINT,
            language="<es>",
            assignee=named,
            moderation=Mention.Moderation.HIDDEN,
            published_at=timezone.now() - timedelta(days=3, hours=2),
        ),
        MentionFactory(
            channel=channel,
            author=quiet_author,
            url="data:text/html,<script>",
            language="",
            assignee=nameless,
            status=Mention.Status.CLOSED,
        ),
        MentionFactory(
            channel=channel,
            author=quiet_author,
            text="gone",
            erased_reason=ErasureReason.PLATFORM,
            erased_at=timezone.now(),
        ),
    ]
    rows[0].terms.add(term)
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    ticket_open(mention=rows[0], department=team.billing, priority="high")
    return list(inbox_rows(Mention.objects.filter(pk__in=[m.pk for m in rows]).order_by("pk")))


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("oob", [False, True])
def test_a_row_is_the_html_the_template_drew(mentions, language, oob) -> None:
    query = 'q=%3Cscript%3E&sentiment="negative"'
    with translation.override(language):
        for mention in mentions:
            expected = template_row(mention, filter_query=query, csrf_token="to<k>en", oob=oob)
            assert render_rows([mention], csrf_token="to<k>en", filter_query=query, oob=oob) == expected


def test_strangers_text_in_a_row_stays_text(mentions) -> None:
    # What a row shows was all read with the page: drawing it asks the database nothing more.
    with CaptureQueriesContext(connection) as queries:
        html = render_rows(mentions, csrf_token="token")
    assert not queries.captured_queries
    assert 'class="sla sla-' in html and "Removed: deleted on" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    assert "javascript:" not in html and "data:text" not in html


def test_the_inbox_page_draws_the_same_rows(client: Client, team, mentions) -> None:
    client.force_login(team.cm)
    html = client.get("/inbox/?tab=all").content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    for mention in mentions:
        assert template_row(mention, filter_query="tab=all", csrf_token=token, oob=False) in html
