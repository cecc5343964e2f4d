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
