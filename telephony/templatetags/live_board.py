"""`{% board_rows rows %}`: the live board's table rows (views/live.py `_row`).

Python, not a `{% for %}` over a dozen variables: every open wallboard renders the 300-agent
board every 3 s, and the template engine's per-variable resolving and escaping was about half
of the request's CPU time (benchmarks/live_board.py --profile). Each value is escaped once with
the standard library's `html.escape`, as Django's autoescape does for a str; the same pattern
as the extensions list's `{% phone_rows %}`."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ROW = (
    '    <tr data-agent="{username}" data-state="{state}">\n'
    '      <td>{name}</td>\n'
    '      <td>{extension}{user_agent}</td>\n'
    '      <td><span class="badge text-bg-{badge}">{label}</span></td>\n'
    '      <td>{number}</td>\n'
    '      <td>{campaign}</td>\n'
    '      <td class="text-end">{call_time}</td>\n'
    '      <td class="text-end">{calls_today}</td>\n'
    '      <td class="text-end">{answered_today}</td>\n'
    '      <td class="text-end">{talk_today}</td>\n'
    '    </tr>\n'
)
_EMPTY = ('<tr><td colspan="9" class="text-muted">No agents yet. Give users the Agent role on '
          'the Users page.</td></tr>')


def _number(row: dict) -> str:
    if not row["call_url"]:
        return "—"
    return f'<a href="{escape(row["call_url"])}">{escape(row["number"])}</a>'


@register.simple_tag
def board_rows(rows: list[dict]) -> SafeString:
    if not rows:
        return mark_safe(_EMPTY)
    return mark_safe("".join(_ROW.format(
        username=escape(row["username"]), state=escape(row["state"]), name=escape(row["name"]),
        extension=escape(row["extension"]),
        user_agent=(f' <span class="text-muted small">{escape(row["user_agent"])}</span>'
                    if row["user_agent"] else ""),
        badge=escape(row["badge"]), label=escape(str(row["label"])), number=_number(row),
        campaign=escape(row["campaign"]), call_time=escape(row["call_time"]),
        calls_today=int(row["calls_today"]), answered_today=int(row["answered_today"]),
        talk_today=escape(row["talk_today"])) for row in rows))
