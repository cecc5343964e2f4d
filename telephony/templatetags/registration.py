"""`{% registration_cell registration %}`: a phone's registration as Asterisk reports it
(services/registration.py), the same badge and line on the extension list and detail, My phone.

Python, not an included template: the extension list shows it on every row, and at 250-500
rows an {% include %} per registered phone cost more than the rest of the row together."""

from __future__ import annotations

import functools

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from telephony.realtime.registration import FROM_DATABASE, Registration
from users.templatetags.ui import status_colour

register = template.Library()

_BADGE = '<span class="badge text-bg-{}">{}</span>'


@register.simple_tag
def registration_cell(registration: Registration) -> SafeString:
    if registration.unreachable:
        return format_html(
            "\n" + _BADGE + "\n<span class=\"small text-muted d-block\">Registered, but it did "
            "not answer Asterisk's last check: Asterisk cannot reach this phone right now and "
            "calls to it fail · {}{}</span>\n",
            status_colour("Cannot be reached"), "Cannot be reached",
            registration.user_agent or "unknown phone", _address(registration))
    if registration.registered:
        reachable = (' <span class="badge text-bg-light border">Reachable</span>'
                     if registration.state == "reachable" else "")
        devices = (f" · {registration.contacts} devices" if registration.contacts > 1 else "")
        source = (" · from the database, not checked with Asterisk"
                  if registration.source == FROM_DATABASE else "")
        return format_html(
            "\n" + _BADGE + "{}\n<span class=\"small text-muted d-block\">{}{}{}{}</span>\n",
            status_colour("Registered"), "Registered", SafeString(reachable),
            registration.user_agent or "unknown phone", _address(registration), devices, source)
    return _not_registered()


@functools.cache
def _not_registered() -> SafeString:
    # Most rows of a big list: the same fixed text, built once, not with format_html per row.
    return format_html("\n" + _BADGE + "\n", status_colour("Not registered"), "Not registered")


def _address(registration: Registration) -> str:
    return f" · {registration.address}" if registration.address else ""
