"""The supervisor's side of the dialer page: start / pause / stop the campaign there, and the
compliance ledger as CSV for audits. Agents may do neither."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from telephony.models import Campaign, DialAttempt
from telephony.services.ledger_export import COLUMNS
from telephony.tests.campaign_helpers import running_campaign, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(agent):
    campaign = running_campaign("Spring", agents=[agent], dial_mode="progressive")
    DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=7, phone_number="+12125550100",
                               created_at=utc(2026, 11, 30, 23, 0), status="busy",
                               agent_username="=HYPERLINK(\"http://x\")", error="+cmd",
                               ring_seconds=4.25)
    DialAttempt.objects.create(campaign_id=campaign.pk, lead_id=8, phone_number="+12125550101",
                               created_at=utc(2026, 12, 1, 12, 0), status="completed",
                               abandoned=False, talk_seconds=61.5)
    DialAttempt.objects.create(campaign_id=campaign.pk + 1000, phone_number="+12125550199",
                               created_at=utc(2026, 12, 1, 12, 0))  # another campaign's
    return campaign


def rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_ledger_downloads_as_csv_oldest_first_and_spreadsheet_safe(supervisor_client,
                                                                        campaign):
    response = supervisor_client.get(reverse("telephony:campaign_ledger_export",
                                             args=[campaign.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = rows(response)
    assert list(lines[0]) == COLUMNS
    assert [line["phone_number"] for line in lines] == ["+12125550100", "+12125550101"]
    first = lines[0]
    assert (first["status"], first["ring_seconds"], first["abandoned"]) == ("busy", "4.250",
                                                                            "no")
    assert first["agent"].startswith("'=") and first["error"] == "'+cmd"  # no formulas


def test_the_ledger_can_be_cut_to_a_date_range_and_a_bad_date_is_refused(supervisor_client,
                                                                         campaign, settings):
    settings.TIME_ZONE = "UTC"
    url = reverse("telephony:campaign_ledger_export", args=[campaign.pk])
    only_first = rows(supervisor_client.get(url, {"from": "2026-11-30", "to": "2026-11-30"}))
    assert [line["phone_number"] for line in only_first] == ["+12125550100"]
    assert len(rows(supervisor_client.get(url, {"from": "2026-12-01"}))) == 1
    for bad in ("2026-13-01", "yesterday", "2026-12-01T00:00"):
        response = supervisor_client.get(url, {"from": bad})
        assert response.status_code == 400
        assert "dates like" in response.content.decode()


def test_an_agent_can_neither_download_the_ledger_nor_steer_the_campaign(agent_client,
                                                                         campaign):
    response = agent_client.get(reverse("telephony:campaign_ledger_export", args=[campaign.pk]))
    assert response.status_code == 403
    response = agent_client.post(reverse("telephony:campaign_status", args=[campaign.pk]),
                                 {"status": "paused", "back": "dialer"})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING


def test_the_supervisor_pauses_resumes_and_stops_from_the_dialer_page(supervisor_client,
                                                                      campaign):
    page = reverse("telephony:campaign_dialer_live", args=[campaign.pk])
    html = supervisor_client.get(page).content.decode()
    assert "Pause dialling" in html and "Stop the campaign" in html
    assert "Start dialling" not in html

    for status, button in (("paused", "Start dialling"), ("running", "Pause dialling"),
                           ("finished", None)):
        data = {"status": status, "back": "dialer"}
        if status == "finished":  # for good: a confirmation page first, which changes nothing
            asked = supervisor_client.post(
                reverse("telephony:campaign_status", args=[campaign.pk]), data)
            assert asked.status_code == 200 and "Finish campaign" in asked.content.decode()
            campaign.refresh_from_db()
            assert campaign.status == "running"
            data["confirm"] = "1"
        response = supervisor_client.post(
            reverse("telephony:campaign_status", args=[campaign.pk]), data)
        assert response.status_code == 302 and response["Location"] == page
        campaign.refresh_from_db()
        assert campaign.status == status
        html = supervisor_client.get(page).content.decode()
        if button:
            assert button in html
        else:  # finished: nothing left to press
            assert "Start dialling" not in html and "Pause dialling" not in html
