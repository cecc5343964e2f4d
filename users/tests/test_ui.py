"""One visual language (docs/ui.md): one date-time format, one duration format, one colour per
status word, and one confirmation pattern (a page, never a script's confirm())."""

import datetime
import pathlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.services.phones import phone_create
from users.templatetags.ui import duration, status_colour, when

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "templates"


def test_one_date_time_format_and_one_duration_format(settings):
    settings.TIME_ZONE = "UTC"
    moment = datetime.datetime(2026, 12, 1, 14, 5, 9, tzinfo=datetime.UTC)
    with timezone.override("UTC"):
        assert when(moment) == "2026-12-01 14:05:09"
    assert when(None) == ""
    assert [duration(s) for s in (0, 9, 65, 3600, 3725)] == ["0:00", "0:09", "1:05", "1:00:00",
                                                           "1:02:05"]
    assert duration(None) == ""


def test_templates_use_the_filters_not_their_own_formats():
    offenders = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if "carriers" not in path.parts and ('|date:"' in path.read_text()
                                                      or '|time:"' in path.read_text())]
    assert offenders == []


def test_the_same_status_word_has_the_same_colour():
    assert status_colour("Inactive") == status_colour("deactivated") == "secondary"
    assert status_colour("Registered") == status_colour("Active") == "success"
    assert status_colour("Locked") == status_colour("Failed") == "danger"
    # A stored value and the word people read are one key.
    assert status_colour("no_answer") == status_colour("No answer") == status_colour("busy")
    assert status_colour("on_call") == status_colour("Answered") == "success"
    assert status_colour("available") == "primary"
    assert status_colour("fail") == "danger" and status_colour("skip") == "warning"


def test_no_template_hard_codes_a_status_colour():
    """A badge's colour comes from |status_colour, so one word has one colour everywhere
    (docs/ui.md); a tag that is not a status is light with a border."""
    colours = "success|danger|warning|secondary|primary|info"
    hard_coded = re.compile(rf'badge[^"]*\btext-bg-({colours})\b')
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
                 for path in TEMPLATES.rglob("*.html")
                 for match in hard_coded.finditer(path.read_text())]
    assert offenders == []


@pytest.mark.django_db
def test_inactive_is_grey_on_every_page_that_says_it(admin_client, server):
    phone = phone_create(extension="1001", name="x", server=server, is_active=False)
    server.is_active = False
    server.save()
    pages = [reverse("telephony:phone_list"), reverse("telephony:phone_detail", args=[phone.pk]),
             reverse("telephony:server_detail", args=[server.pk])]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert '<span class="badge text-bg-secondary">Inactive</span>' in html, url
        assert "text-bg-warning\">Inactive" not in html, url


def test_no_page_asks_with_a_script_confirm():
    offenders = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if "data-confirm" in path.read_text()]
    assert offenders == []
    assert not (TEMPLATES.parent / "static" / "js" / "confirm.js").exists()
