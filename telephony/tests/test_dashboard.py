from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.models import Call, Phone
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_extensions_and_todays_calls(admin_client, agent, settings):
    settings.TIME_ZONE = "America/New_York"
    server = make_server()
    phone = Phone.objects.create(extension="1001", name="Desk", server=server, user=agent)
    Phone.objects.create(extension="1002", name="Spare", server=server, is_active=False)
    now = timezone.now()
    Call.objects.create(user=agent, phone=phone, server=server, number="+15551230001",
                        status=Call.Status.ANSWERED, answered_at=now)
    Call.objects.create(user=agent, phone=phone, server=server, number="+15551230002",
                        status=Call.Status.COMPLETED, answered_at=now)
    old = Call.objects.create(user=agent, phone=phone, server=server, number="+15551230003",
                              status=Call.Status.COMPLETED)
    Call.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))

    context = admin_client.get(reverse("dashboard")).context

    assert context["phones"] == {"total": 2, "active": 1, "assigned": 1}
    assert context["calls_today"] == {"total": 2, "live": 1, "answered": 2}
    assert [s.name for s in context["servers"]] == [server.name]


def test_a_new_install_shows_the_admin_what_is_left_to_do(admin_client, supervisor_client):
    response = admin_client.get(reverse("dashboard"))
    assert [item["done"] for item in response.context["checklist"]] == [False] * 6
    assert b"Getting started" in response.content
    assert reverse("telephony:server_create").encode() in response.content
    assert b"Getting started" not in supervisor_client.get(reverse("dashboard")).content

    server = make_server()
    server.connection_status = "ok"
    server.save()
    done = [item["done"] for item in admin_client.get(reverse("dashboard")).context["checklist"]]
    assert done == [True, True, False, False, False, False]
