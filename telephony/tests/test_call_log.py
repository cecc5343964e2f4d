"""The call log pages: agents see their own calls, admins and supervisors all, with filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telephony.models import Call, Campaign
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import make_call

pytestmark = pytest.mark.django_db
LIST = reverse("telephony:call_list")


def numbers(response) -> set[str]:
    return {call.number for call in response.context["page"]}


def test_an_agent_sees_only_their_own_calls(agent_client, agent_phone, other_phone):
    make_call(agent_phone, number="+15550000001")
    make_call(other_phone, number="+15550000002")

    response = agent_client.get(LIST)

    assert response.status_code == 200
    assert numbers(response) == {"+15550000001"}
    assert "+15550000002" not in response.content.decode()
    assert "user" not in response.context["form"].fields


@pytest.mark.parametrize("persona", ["supervisor_client", "admin_client"])
def test_supervisors_and_admins_see_every_call(persona, request, agent_phone, other_phone):
    make_call(agent_phone, number="+15550000001")
    make_call(other_phone, number="+15550000002")

    response = request.getfixturevalue(persona).get(LIST)

    assert numbers(response) == {"+15550000001", "+15550000002"}
    assert "carol" in response.content.decode()


def test_filters_by_status_agent_campaign_number_and_date(supervisor_client, agent_phone,
                                                          other_phone, other_agent):
    spring = Campaign.objects.create(name="Spring")
    make_call(agent_phone, number="+15550000001", status=Call.Status.BUSY)
    make_call(agent_phone, number="+15550000002", status=Call.Status.ANSWERED)
    make_call(other_phone, number="+15550000003", status=Call.Status.COMPLETED, campaign=spring)
    old = make_call(other_phone, number="+4420000004", status=Call.Status.COMPLETED)
    Call.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate().isoformat()

    def shown(**query):
        response = supervisor_client.get(LIST, query)
        assert response.status_code == 200
        return numbers(response)

    assert shown(status="busy") == {"+15550000001"}
    assert shown(status="live") == {"+15550000002"}
    assert shown(user=other_agent.pk) == {"+15550000003", "+4420000004"}
    assert shown(campaign=spring.pk) == {"+15550000003"}
    assert shown(q="0000004") == {"+4420000004"}
    assert shown(q="+44 20") == {"+4420000004"}
    assert shown(date_from=today) == {"+15550000001", "+15550000002", "+15550000003"}
    assert shown(date_to=(timezone.localdate() - timedelta(days=5)).isoformat()) == {
        "+4420000004"}


def test_a_bad_filter_shows_the_error_not_a_crash(supervisor_client, agent_phone):
    make_call(agent_phone)

    response = supervisor_client.get(LIST, {"date_from": "2025-02-01", "date_to": "2025-01-01",
                                            "status": "bogus"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert len(numbers(response)) == 1  # unfiltered rather than nothing


def _queries(client, query=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST, query or {}).status_code == 200
    return len(captured)


def test_the_log_runs_a_constant_number_of_queries(supervisor_client, agent_phone, other_phone):
    spring = Campaign.objects.create(name="Spring")
    make_call(agent_phone, campaign=spring)
    few = _queries(supervisor_client)
    for index in range(30):
        make_call(agent_phone if index % 2 else other_phone, campaign=spring,
                  status=Call.Status.COMPLETED)

    assert _queries(supervisor_client) == few
    assert _queries(supervisor_client, {"status": "completed"}) == few


def test_it_pages_fifty_calls_at_a_time(agent_client, agent_phone):
    Call.objects.bulk_create([Call(user=agent_phone.user, phone=agent_phone,
                                   server=agent_phone.server, number=f"+1555000{i:04d}")
                              for i in range(55)])

    first = agent_client.get(LIST)
    second = agent_client.get(LIST, {"page": 2})

    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 5


def test_the_log_needs_a_login_and_a_role(outsider, db):
    assert Client().get(LIST).status_code == 302
    client = Client()
    client.force_login(outsider)
    assert client.get(LIST).status_code == 403


def test_an_agent_sees_the_detail_of_their_own_call_only(agent_client, agent_phone, other_phone):
    mine = make_call(agent_phone, uniqueid="1795718447.9")
    theirs = make_call(other_phone)

    assert agent_client.get(reverse("telephony:call_detail", args=[mine.pk])).status_code == 200
    assert agent_client.get(
        reverse("telephony:call_detail", args=[theirs.pk])).status_code == 404


def test_a_supervisor_sees_any_calls_detail(supervisor_client, other_phone):
    theirs = make_call(other_phone, uniqueid="1795718447.9", error_message="Your phone is busy")

    response = supervisor_client.get(reverse("telephony:call_detail", args=[theirs.pk]))

    html = response.content.decode()
    assert "1795718447.9" in html and "Your phone is busy" in html and "carol" in html


def _export(client, query=None) -> list[dict]:
    import csv
    import io

    response = client.get(reverse("telephony:call_export"), query or {})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_holds_the_filtered_calls_supervisors_see(supervisor_client, agent_phone,
                                                              other_phone):
    campaign = Campaign.objects.create(name="-Spring")
    mine = make_call(agent_phone, number="+15550000001", status=Call.Status.COMPLETED,
                     campaign=campaign, duration=42, hangup_cause=16,
                     hangup_cause_text="Normal Clearing")
    make_call(other_phone, number="+15550000002", status=Call.Status.FAILED)

    rows = _export(supervisor_client)
    assert {row["number"] for row in rows} == {"'+15550000001", "'+15550000002"}

    (row,) = _export(supervisor_client, {"status": "completed"})
    assert row["call_id"] == str(mine.pk)
    assert (row["agent"], row["extension"], row["campaign"], row["duration_s"],
            row["hangup_cause"], row["hangup_reason"]) == (
        agent_phone.user.username, "1001", "'-Spring", "42", "16", "Normal Clearing")


def test_an_agent_exports_only_their_own_calls(agent_client, agent_phone, other_phone):
    make_call(agent_phone, number="+15550000001")
    make_call(other_phone, number="+15550000002")
    assert [row["number"] for row in _export(agent_client)] == ["'+15550000001"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_every_cell_of_the_export_is_defused_the_username_too(supervisor_client, agent_phone,
                                                               start):
    user = agent_phone.user
    user.username = f"{start}cmd|calc"
    user.save()
    make_call(agent_phone, number="+15550000001", transferred_to=f"{start}1002",
              error_message=f"{start}HYPERLINK(x)")
    (row,) = _export(supervisor_client)
    assert row["agent"] == f"'{start}cmd|calc"
    assert row["transferred_to"] == f"'{start}1002"
    assert row["error"] == f"'{start}HYPERLINK(x)"
    assert not any(value.startswith(("=", "+", "-", "@", "\t")) for value in row.values())
