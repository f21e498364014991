"""The report's tables rendered row by row in Python: a quarter's daily table alone has hundreds
of cells, and the template's tags for each cell were half of the page's time."""

from __future__ import annotations

from django import template
from django.template.base import render_value_in_context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reports.tables import Table

register = template.Library()


@register.simple_tag(takes_context=True)
def table_rows(context: template.Context, table: Table) -> SafeString:
    """A table's body rows: a folded run of empty days as one row across the columns; a link
    cell as a link; a missing value as "—"; any other value as the template prints it
    (localized, escaped); the first cell of a table quoting what people wrote marked
    ``translate="no"``."""
    width = len(table.headers)
    first = ' translate="no"' if table.quotes_strangers else ""
    rows = []
    for row in table.rows:
        gap = getattr(row, "gap", None)
        if gap:
            rows.append(format_html('<tr class="gap"><td colspan="{}">{}</td></tr>', width, gap))
            continue
        cells = []
        for n, cell in enumerate(row):
            if getattr(cell, "url", None):
                shown = format_html('<a href="{}">{}</a>', cell.url, cell.text)
            elif cell is None:
                shown = "—"
            else:
                shown = render_value_in_context(cell, context)
            cells.append(f"<td{first if n == 0 else ''}>{shown}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    if not rows:
        rows.append(format_html('<tr><td colspan="{}">{}</td></tr>', width, _("Nothing in this period.")))
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped or our own markup
