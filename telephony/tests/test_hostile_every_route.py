"""The hostile set sent to every route, for every role: never a 500.

Walks the URL configuration (the app's routes, and the Django admin's index, changelists and add
pages), and for each route and each persona (anonymous, agent, supervisor, admin, superuser)
sends GETs whose every query parameter is one hostile value, urlencoded and multipart POSTs
whose every field is one, JSON bodies of the wrong shape, wrong content types and unexpected
methods. Real ids and absurd ids both go in the path. The answer may be any refusal, a redirect
or a page; it may not be a server error. Runs on SQLite, PostgreSQL and MariaDB.

A persona a route refuses by role (anonymous on every guarded route, an agent or a supervisor
on a route not theirs) gets a sample of the set, not all of it: the role check comes before
the view reads anything (test_every_view_states_its_role proves it for every route), so the
rest would only time the refusal again; it was 40 % of this test's 8 minutes.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from telephony.models import (
    Call,
    Campaign,
    Carrier,
    DialplanContext,
    DialplanExtension,
    LeadList,
)
from telephony.services.campaigns import dispositions_create_defaults
from telephony.services.dnc import dnc_add
from telephony.services.lead_import import lead_import_upload
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.test_every_view_states_its_role import OPEN, _roles
from users.roles import AGENT, SUPERVISOR

pytestmark = pytest.mark.django_db

# Every name a view or form of this app reads from a query string or a form.
FIELDS = ["q", "server", "page", "status", "date_from", "date_to", "user", "campaign", "show",
          "assigned", "active", "secrets", "pattern", "next", "username", "password",
          "old_password", "new_password1", "new_password2", "name", "slug", "extension",
          "start", "end", "name_pattern", "context", "codecs", "transport", "max_contacts",
          "host", "port", "priority", "application", "arguments", "description", "role",
          "password1", "password2", "email", "caller_id_name", "caller_id_number",
          "phone_number", "call_id", "target", "campaign_id", "confirm", "is_active", "o",
          "p", "all", "_changelist_filters", "action", "_selected_action", "post", "sort",
          "per_page", "ids"]
# Hostile text: NUL and other controls, CR/LF, a line separator, bidi override, '²' (a digit to
# isdigit(), not to int()), a look-alike digit, 10 kB, a huge number, a negative one, dates no
# calendar has, markup, an SQL-ish quote.
TEXT = ["\x00", "a\x00b", "\r\n", "x\r\nSet-Cookie: a=b", "\x1b[31m", "\u2028\u0085",
        "\u202eevil", "\u00b2", "x" * 10_000, "9" * 400, "-1", "9999-12-31", "' OR 1=1 --", ""]
# Raw query strings: bytes that are not UTF-8 (a lone surrogate's encoding, a stray byte).
RAW_QUERIES = ["q=%ED%A0%80", "q=%FF%FE", "server=%C2%B2&page=%00", "page=-1&page=9999999999999"]
JSON_BODIES = [b"[]", b"null", b'"x"', b"1", b"1e999", b"{", b"[" * 3000 + b"]" * 3000,
               json.dumps({"phone_number": None, "call_id": [], "target": {},
                           "campaign_id": 10**400 // 10**399}).encode(),
               b'{"phone_number": "\\ud800", "call_id": "\\u0000", "target": "1002\\r\\n"}',
               json.dumps({name: "9" * 400 for name in FIELDS}).encode(),
               json.dumps({name: ["x"] for name in FIELDS}).encode()]
OTHER_BODIES = [("multipart/form-data; boundary=B",
                 b'--B\r\nContent-Disposition: form-data; name="phone_number"\r\n\r\n1\r\n--B--'),
                ("multipart/form-data", b"no boundary"),
                ("text/plain", b"phone_number=5551234567"),
                ("application/json; charset=utf-16", b'{"phone_number": "1"}'),
                ("application/xml", b"<a/>")]
PATH_VALUES = {"int": ["99999999999999999999999", "0"],
               "uuid": [str(uuid.uuid4())],
               "str": ["%00", "up%0d%0a", "x" * 300, "%E2%80%AE"]}


def _routes(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace == "admin":
                continue
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return urls


# Routes that delete or deactivate go last, so the others meet real objects.
APP_ROUTES = sorted(_routes(), key=lambda item: (
    any(word in item[0] for word in ("delete", "deactivate")), item[0]))


@pytest.fixture
def world(server, agent_phone, admin_user, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the lead import's uploaded file
    carrier = Carrier.objects.create(name="Acme", slug="acme", server=server,
                                     host="sip.acme.example")
    context = DialplanContext.objects.create(name="agents")
    rule = DialplanExtension.objects.create(context=context, pattern="_X.", priority=1, order=1,
                                            application="NoOp", arguments="x")
    campaign = Campaign.objects.create(name="Spring")
    call = Call.objects.create(number="+15551234567", user=agent, phone=agent_phone,
                               server=server)
    lead_list = LeadList.objects.create(campaign=campaign, name="June")
    lead_import = lead_import_upload(lead_list=lead_list, upload=SimpleUploadedFile(
        "leads.csv", b"phone,first_name\n+12125550100,Ada\n"))
    entry, _created = dnc_add(number="+12125550199", campaign=campaign, reason="test")
    disposition = dispositions_create_defaults(campaign=campaign)[0]
    # Route-name prefix -> the object its <pk> names; the first prefix that matches wins.
    by_prefix = {"server": server.pk, "phone": agent_phone.pk, "carrier": carrier.pk,
                 "dialplan_context": context.pk, "dialplan_rule": rule.pk,
                 "campaign": campaign.pk, "users:": agent.pk,
                 "lead_list_new": campaign.pk, "lead_list": lead_list.pk,
                 "lead_import_new": lead_list.pk, "lead_import": lead_import.pk,
                 "dnc_campaign": campaign.pk, "disposition": campaign.pk}
    return {"pk": by_prefix, "call_id": call.pk,
            "other": {"entry_pk": entry.pk, "disposition_pk": disposition.pk}}


def _urls(name: str, pattern: URLPattern, world: dict) -> list[str]:
    converters = pattern.pattern.converters
    if not converters:
        return [reverse(name)]
    real = {}
    for key in converters:
        if key == "pk":
            short = name.split(":", 1)[1]
            real[key] = next(value for prefix, value in world["pk"].items()
                             if short.startswith(prefix) or name.startswith(prefix))
        elif key == "call_id":
            real[key] = world["call_id"]
        elif key in world["other"]:
            real[key] = world["other"][key]
        elif key == "action":
            real[key] = "cancel"
        else:
            real[key] = "up"
    urls = [reverse(name, kwargs=real)]
    # The same route with absurd values in each path segment, built by hand (reverse() would
    # refuse them, a browser does not).
    template = reverse(name, kwargs={key: f"__{key}__" if key == "direction" else real[key]
                                     for key in converters})
    for key, converter in converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        marker = f"__{key}__" if key == "direction" else str(real[key])
        for value in PATH_VALUES.get(kind, []):
            urls.append(template.replace(marker, value, 1))
    return urls


def _requests(url: str, *, full: bool = True, refused: bool = False):
    """(method, path, body, content_type) of the hostile set for one URL; the Django admin's
    pages get the query strings and form posts only (its own views parse nothing else), and a
    persona the route refuses by role a sample of each kind."""
    if refused:
        for value in TEXT[:4]:
            query = "&".join(f"{field}={quote(value)}" for field in FIELDS)
            yield "get", f"{url}?{query}", None, None
            yield "post", url, query.encode(), "application/x-www-form-urlencoded"
        yield "get", f"{url}?{RAW_QUERIES[0]}", None, None
        yield "post", url, JSON_BODIES[-1], "application/json"
        content_type, body = OTHER_BODIES[1]  # multipart without a boundary
        yield "post", url, body, content_type
        yield "delete", url, b"{}", "application/json"
        return
    for value in TEXT:
        query = "&".join(f"{field}={quote(value)}" for field in FIELDS)
        yield "get", f"{url}?{query}", None, None
    for raw in RAW_QUERIES:
        yield "get", f"{url}?{raw}", None, None
    if not full:
        for value in TEXT[:4]:
            form = "&".join(f"{field}={quote(value)}" for field in FIELDS)
            yield "post", url, form.encode(), "application/x-www-form-urlencoded"
        return
    for value in TEXT:
        form = "&".join(f"{field}={quote(value)}" for field in FIELDS)
        yield "post", url, form.encode(), "application/x-www-form-urlencoded"
    for value in TEXT[:6]:
        parts = b"".join(
            b'--B\r\nContent-Disposition: form-data; name="' + field.encode() + b'"\r\n\r\n'
            + value.encode("utf-8", "surrogatepass") + b"\r\n" for field in FIELDS)
        yield "post", url, parts + b"--B--\r\n", "multipart/form-data; boundary=B"
    for body in JSON_BODIES:
        yield "post", url, body, "application/json"
    for content_type, body in OTHER_BODIES:
        yield "post", url, body, content_type
    for method in ("put", "delete", "patch", "options"):
        yield method, url, b"{}", "application/json"


def _personas(django_user_model, supervisor, agent, admin_user):
    root = django_user_model.objects.create_superuser("root", password="root-pass-123456")
    personas = {"anonymous": None, "agent": agent, "supervisor": supervisor,
                "admin": admin_user, "superuser": root}
    clients = {}
    for label, user in personas.items():
        client = Client(raise_request_exception=False, enforce_csrf_checks=False)
        if user is not None:
            client.force_login(user)
        clients[label] = client
    return clients


PERSONA_ROLES = {"agent": AGENT, "supervisor": SUPERVISOR}


def _refused_by_role(label: str, name: str, pattern: URLPattern) -> bool:
    if name in OPEN or label in ("admin", "superuser"):
        return False
    if label == "anonymous":
        return True
    return PERSONA_ROLES[label] not in (_roles(pattern) or ())


def test_no_route_answers_500_to_the_hostile_set(world, django_user_model, supervisor, agent,
                                                 admin_user, fake_ami, settings):
    settings.ASTERISK_TIMEOUT = 0.5
    clients = _personas(django_user_model, supervisor, agent, admin_user)
    targets = [(url, True, name, pattern) for name, pattern in APP_ROUTES
               for url in _urls(name, pattern, world)]
    targets += [(url, False, None, None) for url in _admin_urls()]
    errors, sent = [], 0
    for url, full, name, pattern in targets:
        for label, client in clients.items():
            refused = pattern is not None and _refused_by_role(label, name, pattern)
            for method, path, body, content_type in _requests(url, full=full, refused=refused):
                kwargs = {} if body is None else {"data": body, "content_type": content_type}
                response = getattr(client, method)(path, **kwargs)
                sent += 1
                if response.status_code >= 500:
                    errors.append((label, method, path[:120], content_type,
                                   (body or b"")[:60], response.status_code))
    print(f"hostile every-route test: {sent} requests, {len(targets)} URLs, "
          f"{len(clients)} personas, {len(errors)} server errors")
    assert errors == []
    assert sent > 15_000
    # The sampling leaves the routes each persona may use their whole set.
    assert not _refused_by_role("agent", "telephony:call_originate",
                                dict(APP_ROUTES)["telephony:call_originate"])
    assert _refused_by_role("agent", "telephony:phone_list",
                            dict(APP_ROUTES)["telephony:phone_list"])
