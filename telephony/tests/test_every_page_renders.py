"""Every page renders for every role allowed to see it, with real objects, including the
awkward ones a live system accumulates: a call whose phone, server and campaign were deleted,
an extension nobody is assigned to, a server never tested, an IP-only carrier.

Walks the same URL configuration as test_every_view_states_its_role.py, so a page added later
is crawled too. A GET never answers 5xx: POST-only routes say 405, pages 200 (or a redirect).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telephony.models import (
    AsteriskServer,
    Call,
    Campaign,
    DialAttempt,
    Lead,
    LeadList,
    Phone,
    PhoneImportJob,
)
from telephony.services.campaigns import dispositions_create_defaults
from telephony.services.carriers import carrier_create
from telephony.services.dialplan import context_create, extension_create
from telephony.services.dnc import dnc_add
from telephony.services.lead_import import lead_import_upload
from telephony.tests.test_every_view_states_its_role import ROUTES, _roles
from users.models import UserImportJob
from users.roles import ADMIN, AGENT, SUPERVISOR

pytestmark = pytest.mark.django_db

# Which object a route's <pk> names, by the route's name.
PK_OWNERS = {
    "telephony:campaign_": "campaign", "telephony:carrier_": "carrier",
    "telephony:dialplan_context_": "context", "telephony:dialplan_rule_create": "context",
    "telephony:dialplan_rule_": "rule", "telephony:phone_": "phone",
    "telephony:server_": "server", "users:": "user",
    "telephony:lead_list_new": "campaign", "telephony:lead_list_export": "lead_list",
    "telephony:lead_import_new": "lead_list", "telephony:lead_import_": "lead_import",
    "telephony:dnc_campaign": "campaign", "telephony:disposition_": "campaign",
    "telephony:phone_import_job": "phone_import_job", "users:import_job": "user_import_job",
}


def _owner(name: str) -> str:
    return max((prefix for prefix in PK_OWNERS if name.startswith(prefix)), key=len)


@pytest.fixture
def world(agent, other_agent, django_user_model, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    server = AsteriskServer.objects.create(
        name="pbx1", host="pbx.example.com", ami_host="127.0.0.1", ami_username="admin",
        ami_password="amipass", ari_host="127.0.0.1", ari_username="ari", ari_password="x")
    phone = Phone.objects.create(extension="1001", name="Bob's desk", server=server, user=agent)
    Phone.objects.create(extension="1009", name="Spare desk", server=server)  # nobody's
    campaign = Campaign.objects.create(name="Renewals", caller_id_number="+15551230000")
    carrier = carrier_create(
        name="Acme", slug="acme", server=server, host="sip.acme.example", port=5060,
        transport="transport-udp", auth_mode="ip", username="", password="", register=False,
        from_user="", from_domain="", codecs="ulaw", dial_prefix="", strip_digits=0,
        caller_id_number="", max_channels=0, is_active=True, order=0)
    context = context_create(name="agents")
    rule = extension_create(context=context, pattern="_1XXX", application="Dial",
                            arguments="PJSIP/${EXTEN},30")
    now = timezone.now()
    calls = [
        Call.objects.create(user=agent, phone=phone, server=server, campaign=campaign,
                            number="+15551234567", status=Call.Status.COMPLETED,
                            answered_at=now - timedelta(minutes=3),
                            ended_at=now - timedelta(minutes=1), duration=120, hangup_cause=16,
                            hangup_cause_text="Normal Clearing", transferred_to="1002"),
        # Everything it pointed at was deleted since (SET_NULL).
        Call.objects.create(user=agent, number="+15557654321", status=Call.Status.FAILED,
                            error_message="Your phone could not be called"),
        Call.objects.create(user=agent, phone=phone, server=server, number="+15550000000",
                            status=Call.Status.ANSWERED, answered_at=now),
    ]
    lead_list = LeadList.objects.create(campaign=campaign, name="June")
    lead_import = lead_import_upload(lead_list=lead_list, upload=SimpleUploadedFile(
        "leads.csv", b"phone,first_name\n+12125550100,=cmd\n555-CALL-NOW,x\n"))
    Lead.objects.create(campaign=campaign, lead_list=lead_list, phone_number="+12125550100",
                        timezone="America/New_York", first_name="-Ada", data={"@": "=1"})
    entry, _created = dnc_add(number="+12125550199", campaign=campaign, reason="=x")
    disposition = dispositions_create_defaults(campaign=campaign)[0]
    # A dialer call the agent had, in wrap-up (the session page's disposition form).
    attempt = DialAttempt.objects.create(campaign_id=campaign.pk, phone_number="+12125550100",
                                         created_at=now, status=DialAttempt.Status.COMPLETED,
                                         agent_id=agent.pk, ended_at=now)
    # A background extension import that ended (its page shows the result).
    phone_import_job = PhoneImportJob.objects.create(
        created_by=None, status=PhoneImportJob.Status.DONE, fingerprint="x", rows_total=2,
        writes_total=2, created=1, updated=1, finished_at=now)
    user_import_job = UserImportJob.objects.create(
        created_by=None, status=UserImportJob.Status.DONE, fingerprint="x", rows_total=2,
        writes_total=2, created=1, updated=1, finished_at=now)
    return {"attempt": attempt, "phone_import_job": phone_import_job,
            "user_import_job": user_import_job,
            "server": server, "phone": phone, "campaign": campaign, "carrier": carrier,
            "context": context, "rule": rule, "user": other_agent, "calls": calls,
            "lead_list": lead_list, "lead_import": lead_import, "dnc_entry": entry,
            "disposition": disposition}


def _urls(name, pattern, world) -> list[str]:
    converters = pattern.pattern.converters
    if "call_id" in converters:
        return [reverse(name, kwargs={"call_id": call.pk}) for call in world["calls"]]
    kwargs = {}
    if "attempt_id" in converters:
        kwargs["attempt_id"] = world["attempt"].pk
    if "pk" in converters:
        kwargs["pk"] = world[PK_OWNERS[_owner(name)]].pk
    if "direction" in converters:
        kwargs["direction"] = "down"
    if "entry_pk" in converters:
        kwargs["entry_pk"] = world["dnc_entry"].pk
    if "disposition_pk" in converters:
        kwargs["disposition_pk"] = world["disposition"].pk
    if "action" in converters:
        kwargs["action"] = "cancel"
    if "uidb64" in converters:  # a set-password link: one that does not work (the page says so)
        kwargs.update(uidb64="MQ", token="not-a-token")
    return [reverse(name, kwargs=kwargs)]


PERSONAS = {ADMIN: "admin_user", SUPERVISOR: "supervisor", AGENT: "agent"}


@pytest.mark.parametrize("role", [ADMIN, SUPERVISOR, AGENT])
def test_every_page_a_role_may_see_renders(role, world, request):
    client = Client()
    client.force_login(request.getfixturevalue(PERSONAS[role]))
    seen = 0
    for name, pattern in ROUTES:
        roles = _roles(pattern)
        if not roles or (role != ADMIN and role not in roles):
            continue
        for url in _urls(name, pattern, world):
            response = client.get(url)
            assert response.status_code < 500, f"{role} GET {url}: {response.status_code}"
            assert response.status_code in (200, 302, 403, 404, 405), (url, response.status_code)
            # 404 only from the call-status API, which answers about the user's own calls (the
            # calls here are the agent's).
            if response.status_code in (403, 404):
                assert role != AGENT and url.endswith(("/status/", "/dispositions/")), \
                    (url, response.status_code)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                # docs/ui.md: every page has breadcrumbs ending at the current page.
                # (Full pages only: a fragment a page polls for is not a page.)
                html = response.content.decode()
                if html.lstrip().lower().startswith("<!doctype html>"):
                    assert 'aria-label="breadcrumb"' in html, f"{role} GET {url}: no breadcrumbs"
                    assert 'breadcrumb-item active" aria-current="page"' in html, url
            seen += 1
    assert seen >= {ADMIN: 50, SUPERVISOR: 8, AGENT: 10}[role]


def test_every_delete_page_is_the_one_confirmation_page(admin_client, world):
    """docs/ui.md: one confirmation pattern. Every route whose name says delete shows
    confirm.html on GET, with a red button that says what it deletes, or (the world's server
    carries extensions) says why it cannot be deleted."""
    seen = []
    for name, pattern in ROUTES:
        if not name.endswith("delete"):
            continue
        for url in _urls(name, pattern, world):
            response = admin_client.get(url)
            assert response.status_code == 200, url
            assert "confirm.html" in [t.name for t in response.templates], url
            html = response.content.decode()
            assert 'class="btn btn-danger"' in html or "cannot be deleted" in html, url
            seen.append(name)
    assert len(seen) >= 4, seen
