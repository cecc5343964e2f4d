"""Every page and API endpoint states the role it needs, and the role check comes first.

Walks the URL configuration, so a view added later without a role fails here. For each
route it asks as an anonymous visitor and as an agent, with ids that do not exist: the answer
must be the refusal (login redirect / 401, then 403 for admin-only routes), never a 404 or a
page that leaks that the object does not exist.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from users.roles import ADMIN, AGENT, SUPERVISOR

# The set-password page is reached from a link whose token is the proof (users/password_links.py).
PUBLIC = {"users:login", "users:logout", "users:set_password"}
FAKE_KWARGS = {"uidb64": "OTk5OTk5", "token": "cz2x1m-0123456789abcdef0123456789abcdef",
               "pk": 999999, "call_id": uuid.UUID(int=1), "direction": "up", "entry_pk": 999999,
               "disposition_pk": 999999, "action": "cancel", "attempt_id": uuid.UUID(int=2)}


def _routes(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":  # Django's own admin has its own staff checks
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


ROUTES = sorted(_routes(), key=lambda item: item[0])
# Routes anyone may reach: the login and logout pages, and the home page that sends each visitor
# on (anonymous ones to the login page).
OPEN = PUBLIC | {"home"}
GUARDED = [(name, pattern) for name, pattern in ROUTES if name not in OPEN]
OPEN_ROUTES = [(name, pattern) for name, pattern in ROUTES if name in OPEN]
# What an anonymous visitor gets from each open route (logout takes POST only).
OPEN_ANSWERS = {"users:login": (200, 200), "users:logout": (405, 302), "home": (302, 302),
                "users:set_password": (200, 200)}  # "this link has been used or has expired"


def _roles(pattern: URLPattern) -> tuple[str, ...] | None:
    callback = pattern.callback
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return getattr(view_class.dispatch, "required_roles", None)
    return getattr(callback, "required_roles", None)


def _url(name: str, pattern: URLPattern) -> str:
    kwargs = {key: FAKE_KWARGS[key] for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


def test_the_walk_finds_the_product_routes():
    names = {name for name, _ in ROUTES}
    assert {"telephony:phone_list", "telephony:call_originate", "users:list",
            "telephony:agent_panel", "dashboard"} <= names


@pytest.mark.parametrize("name,pattern", GUARDED, ids=[name for name, _ in GUARDED])
def test_every_route_states_a_role(name, pattern):
    roles = _roles(pattern)
    assert roles, f"{name} does not state its role (use role_required or api_view)"
    assert set(roles) <= {ADMIN, SUPERVISOR, AGENT}


@pytest.mark.django_db
@pytest.mark.parametrize("name,pattern", GUARDED, ids=[name for name, _ in GUARDED])
def test_anonymous_and_wrong_roles_are_refused_before_anything_else(
        name, pattern, client, agent, supervisor):
    roles = set(_roles(pattern))
    url = _url(name, pattern)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (302, 401), f"{name}: anonymous got {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("users:login"))
    for user, role in ((agent, AGENT), (supervisor, SUPERVISOR)):
        if role in roles:
            continue
        client.force_login(user)
        for method in (client.get, client.post):
            status = method(url).status_code
            assert status == 403, f"{name}: {role} got {status}"
        client.logout()


@pytest.mark.parametrize("name,pattern", OPEN_ROUTES, ids=[name for name, _ in OPEN_ROUTES])
def test_open_routes_state_no_role(name, pattern):
    assert _roles(pattern) is None, f"{name} is meant for anyone, yet states a role"


@pytest.mark.django_db
@pytest.mark.parametrize("name,pattern", OPEN_ROUTES, ids=[name for name, _ in OPEN_ROUTES])
def test_open_routes_answer_anonymous_visitors(name, pattern, client):
    url = _url(name, pattern)
    assert (client.get(url).status_code, client.post(url).status_code) == OPEN_ANSWERS[name]
    if name == "home":
        assert client.get(url)["Location"] == reverse("users:login")
