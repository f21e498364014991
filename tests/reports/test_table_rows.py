"""The report's tables, rendered row by row in Python (reports/templatetags/report_tables.py),
print what the template printed: escaped, localized, links, gaps and missing values."""

from __future__ import annotations

from datetime import date

from django.template import Context, Template
from django.utils import translation

from reports.tables import Gap, Link, Table


def render(table: Table) -> str:
    return Template("{% load report_tables %}{% table_rows table %}").render(Context({"table": table}))


def test_cells_are_escaped_localized_and_linked():
    table = Table(
        name="questions", title="Questions", headers=["Question", "Count", "Share"],
        rows=[["<script>x</script>", 3, 12.5], [Link(text="<b>a</b>", url="/inbox/?q=a&b=1"), None, 0.5],
              Gap(gap="4 days without mentions <1 to 4 Mar>")],
    )  # fmt: skip
    with translation.override("es"):
        html = render(table)
    assert '<td translate="no">&lt;script&gt;x&lt;/script&gt;</td><td>3</td><td>12,5</td>' in html
    assert '<td translate="no"><a href="/inbox/?q=a&amp;b=1">&lt;b&gt;a&lt;/b&gt;</a></td><td>—</td>' in html
    assert '<tr class="gap"><td colspan="3">4 days without mentions &lt;1 to 4 Mar&gt;</td></tr>' in html
    with translation.override("en"):  # a date as the template printed it, in the reader's format
        assert render(Table("volume", "Volume", ["Day"], [[date(2026, 3, 1)]])) == "<tr><td>March 1, 2026</td></tr>"


def test_an_empty_table_says_so():
    with translation.override("es"):
        html = render(Table(name="volume", title="Volume", headers=["Day", "Total"], rows=[]))
    assert html == '<tr><td colspan="2">Nada en este periodo.</td></tr>'
