"""Campaign pages: admins and supervisors manage campaigns; agents and strangers cannot."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.models import Campaign

pytestmark = pytest.mark.django_db
LIST = reverse("telephony:campaign_list")
CREATE = reverse("telephony:campaign_create")


@pytest.mark.parametrize("persona", ["admin_client", "supervisor_client"])
def test_admins_and_supervisors_create_and_edit_campaigns(persona, request):
    client = request.getfixturevalue(persona)

    created = client.post(CREATE, {"name": "Spring", "is_active": "on",
                                   "caller_id_name": "Spring Sale",
                                   "caller_id_number": "+15550100"})
    campaign = Campaign.objects.get()
    edited = client.post(reverse("telephony:campaign_edit", args=[campaign.pk]),
                         {"name": "Spring 2", "caller_id_number": ""})

    assert created.status_code == edited.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.is_active, campaign.caller_id_number) == ("Spring 2", False,
                                                                              "")
    assert "Spring 2" in client.get(LIST, {"show": "all"}).content.decode()


def test_it_refuses_caller_ids_that_could_break_an_ami_frame(admin_client):
    response = admin_client.post(CREATE, {"name": "Evil", "caller_id_name": 'x" <1>',
                                          "caller_id_number": "12ab"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"caller_id_name", "caller_id_number"}
    assert not Campaign.objects.exists()


def test_inactive_campaigns_are_hidden_unless_asked(admin_client):
    Campaign.objects.create(name="Live one")
    Campaign.objects.create(name="Old one", is_active=False)

    assert "Old one" not in admin_client.get(LIST).content.decode()
    assert "Old one" in admin_client.get(LIST, {"show": "all"}).content.decode()


def test_the_list_runs_a_constant_number_of_queries(admin_client):
    Campaign.objects.create(name="c0")

    def count():
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(LIST)
        return len(captured)

    few = count()
    for index in range(1, 20):
        Campaign.objects.create(name=f"c{index}")
    assert count() == few


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_agents_get_403_and_strangers_the_login_page(url, agent_client):
    assert agent_client.get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302 and "/users/login/" in response["Location"]


def test_an_agent_cannot_edit_a_campaign(agent_client):
    campaign = Campaign.objects.create(name="Spring")

    response = agent_client.post(reverse("telephony:campaign_edit", args=[campaign.pk]),
                                 {"name": "Hacked"})

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Spring"
