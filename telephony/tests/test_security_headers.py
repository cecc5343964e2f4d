"""The Content-Security-Policy (issue 11, item 6): on every page, and no page of the app relies
on what it forbids (an inline script, an on...= handler, a style attribute), or a browser would
block it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from autodialer.security import CONTENT_SECURITY_POLICY
from telephony.tests.test_every_page_renders import _urls, world  # noqa: F401 - the fixture
from telephony.tests.test_every_view_states_its_role import ROUTES

pytestmark = pytest.mark.django_db

INLINE = [re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
          re.compile(r"\son[a-z]+\s*=", re.I), re.compile(r"\sstyle\s*=", re.I),
          re.compile(r"javascript:", re.I)]


def test_the_policy_allows_only_the_apps_own_origin():
    parts = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert parts["default-src"] == "'self'"
    assert parts["script-src"] == "'self'" and parts["style-src"] == "'self'"
    assert parts["frame-ancestors"] == "'none'" and parts["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("name", ["users:login", "home"])
def test_every_response_carries_it_anonymous_too(client, name):
    response = client.get(reverse(name))
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_json_answer_and_a_404_carry_it(agent_client):
    assert agent_client.get(reverse("telephony:call_current"))["Content-Security-Policy"]
    assert agent_client.get("/no-such-page/")["Content-Security-Policy"]


def test_no_page_needs_what_the_policy_forbids(world, admin_user, agent):  # noqa: F811
    checked = 0
    for user in (admin_user, agent):
        client = Client()
        client.force_login(user)
        for name, pattern in ROUTES:
            for url in _urls(name, pattern, world):
                response = client.get(url)
                if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                    continue
                html = response.content.decode()
                for rule in INLINE:
                    found = rule.search(html)
                    assert found is None, f"{url}: {found.group()!r} would be blocked by the CSP"
                checked += 1
    assert checked >= 40
