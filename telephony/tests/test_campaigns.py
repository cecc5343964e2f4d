"""Campaign pages: admins and supervisors manage campaigns; agents and strangers cannot."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telephony.models import CallingRules, Campaign, CampaignStatusChange, Disposition

pytestmark = pytest.mark.django_db
LIST = reverse("telephony:campaign_list")
CREATE = reverse("telephony:campaign_create")


def form_data(**overrides) -> dict:
    data = {"name": "Spring", "dial_mode": "manual", "caller_id_name": "Spring Sale",
            "caller_id_number": "+15550100", "default_timezone": "America/New_York",
            "ring_timeout": 20, "max_attempts": 5, "max_attempts_per_day": 3,
            "retry_no_answer_minutes": 120, "retry_busy_minutes": 15,
            "retry_congestion_minutes": 10, "retry_machine_minutes": 240,
            "retry_dropped_minutes": 60, "abandon_target_percent": "3.00",
            "abandon_window": "30d", "wrapup_seconds": 60}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("persona", ["admin_client", "supervisor_client"])
def test_admins_and_supervisors_create_and_edit_campaigns(persona, request, agent):
    client = request.getfixturevalue(persona)

    created = client.post(CREATE, form_data(agents=[agent.pk]))
    campaign = Campaign.objects.get()
    edited = client.post(reverse("telephony:campaign_edit", args=[campaign.pk]),
                         form_data(name="Spring 2", caller_id_number="", ring_timeout=25))

    assert created.status_code == edited.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.caller_id_number, campaign.ring_timeout) \
        == ("Spring 2", "draft", "", 25)
    assert list(campaign.agents.all()) == []  # the edit left no agent ticked
    assert "Spring 2" in client.get(LIST, {"show": "all"}).content.decode()


def test_a_new_campaign_starts_with_the_default_dispositions_and_its_history(admin_client,
                                                                             agent):
    admin_client.post(CREATE, form_data(agents=[agent.pk]))
    campaign = Campaign.objects.get()

    names = set(Disposition.objects.filter(campaign=campaign).values_list("name", flat=True))
    assert {"Sale", "Not interested", "Call back", "Do not call", "No answer"} <= names
    assert list(campaign.agents.all()) == [agent]
    assert campaign.status_changes.get().to_status == "draft"


def test_it_refuses_caller_ids_that_could_break_an_ami_frame(admin_client):
    response = admin_client.post(CREATE, form_data(name="Evil", caller_id_name='x" <1>',
                                                   caller_id_number="12ab"))

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"caller_id_name", "caller_id_number"}
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("ring", [0, 14])
def test_it_refuses_a_ring_timeout_below_15_seconds(ring, admin_client):
    response = admin_client.post(CREATE, form_data(ring_timeout=ring))

    assert response.status_code == 200
    assert "ring_timeout" in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_the_rules_set_the_floor_for_ring_timeout_and_abandon_target(admin_client):
    rules = CallingRules.objects.create(name="Strict", min_ring_seconds=25,
                                        max_abandon_percent=2)

    response = admin_client.post(CREATE, form_data(calling_rules=rules.pk, ring_timeout=20,
                                                   abandon_target_percent="3"))

    assert set(response.context["form"].errors) == {"ring_timeout", "abandon_target_percent"}


def test_it_refuses_more_attempts_per_day_than_in_total(admin_client):
    response = admin_client.post(CREATE, form_data(max_attempts=2, max_attempts_per_day=3))
    assert "max_attempts_per_day" in response.context["form"].errors


def test_status_moves_draft_running_paused_finished_with_its_history(supervisor_client,
                                                                     supervisor):
    campaign = Campaign.objects.create(name="Spring")
    url = reverse("telephony:campaign_status", args=[campaign.pk])

    for status in ("running", "paused", "running", "finished"):
        assert supervisor_client.post(url, {"status": status, "confirm": "1"}).status_code == 302
        campaign.refresh_from_db()
        assert campaign.status == status

    changes = list(CampaignStatusChange.objects.filter(campaign=campaign)
                   .order_by("pk").values_list("from_status", "to_status", "changed_by"))
    assert changes == [("draft", "running", supervisor.pk), ("running", "paused", supervisor.pk),
                       ("paused", "running", supervisor.pk),
                       ("running", "finished", supervisor.pk)]
    page = supervisor_client.get(reverse("telephony:campaign_detail", args=[campaign.pk]))
    assert "sam" in page.content.decode() and "Finished" in page.content.decode()


def test_finishing_asks_first_and_says_what_stops(supervisor_client):
    from telephony.calling.selection import lead_counts
    from telephony.tests.campaign_helpers import lead_for, running_campaign

    # Rules that allow every minute of every day, so the three leads are dialable now.
    rules = CallingRules.objects.create(name="Always", start_time=datetime.time(0, 0),
                                        end_time=datetime.time(23, 59, 59))
    campaign = running_campaign(calling_rules=rules)
    for number in ("+12125550100", "+12125550101", "+12125550102"):
        lead_for(campaign, number)
    assert lead_counts(campaign, timezone.now())["dialable"] == 3
    url = reverse("telephony:campaign_status", args=[campaign.pk])

    html = supervisor_client.post(url, {"status": "finished"}).content.decode()

    campaign.refresh_from_db()
    assert campaign.status == "running" and not campaign.status_changes.exists()
    assert "cannot be started or resumed" in html
    assert "3 lead(s) that could still be dialled will not be called" in html
    assert 'name="confirm" value="1"' in html and 'value="finished"' in html
    # A campaign that cannot finish (already finished) gets the plain refusal, not the page.
    campaign.status = "finished"
    campaign.save()
    refused = supervisor_client.post(url, {"status": "finished"}, follow=True)
    assert "cannot become" in refused.content.decode()


@pytest.mark.parametrize("start, to", [("finished", "running"), ("draft", "paused"),
                                       ("running", "draft")])
def test_it_refuses_a_status_change_the_cycle_does_not_allow(start, to, admin_client):
    campaign = Campaign.objects.create(name="Spring", status=start)

    response = admin_client.post(reverse("telephony:campaign_status", args=[campaign.pk]),
                                 {"status": to}, follow=True)

    campaign.refresh_from_db()
    assert campaign.status == start
    assert not campaign.status_changes.exists()
    assert "cannot become" in response.content.decode()


def test_a_dialling_campaign_needs_an_agent_to_start(admin_client):
    campaign = Campaign.objects.create(name="Spring", dial_mode="progressive")

    admin_client.post(reverse("telephony:campaign_status", args=[campaign.pk]),
                      {"status": "running"})

    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_finished_campaigns_are_hidden_unless_asked(admin_client):
    Campaign.objects.create(name="Live one")
    Campaign.objects.create(name="Old one", status="finished")

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


@pytest.mark.parametrize("name", ["campaign_edit", "campaign_detail", "campaign_status"])
def test_an_agent_cannot_see_edit_or_start_a_campaign(name, agent_client):
    campaign = Campaign.objects.create(name="Spring")

    response = agent_client.post(reverse(f"telephony:{name}", args=[campaign.pk]),
                                 {"name": "Hacked", "status": "running"})

    assert response.status_code == 403
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Spring", "draft")


def test_the_form_comes_in_titled_sections_with_every_field_once(supervisor_client):
    from telephony.forms.campaigns import SECTIONS, CampaignForm

    placed = [name for _title, names in SECTIONS for name in names]
    assert sorted(placed) == sorted(CampaignForm().fields)  # a new field needs its section
    page = supervisor_client.get(CREATE).content.decode()
    starts = [page.index(f"<legend>{title}</legend>") for title, _names in SECTIONS]
    assert starts == sorted(starts)  # in order, each once
    for (title, names), start, end in zip(SECTIONS, starts, starts[1:] + [len(page)],
                                          strict=True):
        for name in names:
            assert f'id="div_id_{name}"' in page[start:end], (title, name)
    assert page.count('name="disposition_required"') == 1
    form = page[page.index('<form method="post" class="col-lg-6"'):]
    assert form[:form.index("</form>")].count('name="csrfmiddlewaretoken"') == 1
