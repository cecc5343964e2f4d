"""The agent panel, server side: who may open it, and that it shows only the agent's own
phone and calls. The browser side (dialling, live state) is test_agent_panel_browser.py."""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.models import Call, Campaign, Phone, PsContact
from telephony.tests.campaign_helpers import running_campaign
from telephony.tests.fakes.ami import FakeAmiServer, registered_endpoint
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db

URL = "/telephony/agent/"


@pytest.fixture
def server():
    return make_server(sip_port=5062)  # the page shows the port: not the default


@pytest.fixture
def phone(server, agent):
    return Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent,
                                secret="S3cretSipPassw0rd", transport="transport-tcp")


def _register(extension, user_agent="MicroSIP/3.21.3", addr="192.0.2.10", port=5070,
              expires_in=300):
    return PsContact.objects.create(
        id=f"{extension};@{user_agent.__hash__() & 0xffff:x}", endpoint=extension,
        uri=f"sip:{extension}@{addr}:{port}", user_agent=user_agent, via_addr=addr,
        via_port=port, expiration_time=int(time.time()) + expires_in)


def _call(user, number, status=Call.Status.COMPLETED, **extra):
    return Call.objects.create(user=user, number=number, status=status, **extra)


# --- who may open it ---------------------------------------------------------------------

def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


def test_it_refuses_a_user_without_the_agent_role(outsider, supervisor_client, client):
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert supervisor_client.get(URL).status_code == 403


def test_it_opens_for_an_agent(agent_client):
    response = agent_client.get(URL)
    assert response.status_code == 200
    assert reverse("telephony:agent_panel") == URL


def test_it_opens_for_an_admin_as_every_role_check_does(admin_client):
    assert admin_client.get(URL).status_code == 200


def test_agents_land_on_it_after_login(agent_client):
    response = agent_client.get("/")
    assert response.status_code == 302
    assert response.url == URL


def test_it_answers_only_get(agent_client):
    assert agent_client.post(URL).status_code == 405


def test_it_is_never_cached_as_it_carries_the_sip_password(agent_client, phone):
    response = agent_client.get(URL)
    assert "no-store" in response["Cache-Control"]


def test_the_script_endpoints_answer_json_401_and_403(client, outsider):
    for name in ("telephony:agent_registration", "telephony:agent_recent_calls"):
        response = client.get(reverse(name))
        assert response.status_code == 401
        assert response.json()["code"] == "not_logged_in"
    client.force_login(outsider)
    for name in ("telephony:agent_registration", "telephony:agent_recent_calls"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"


# --- the phone ---------------------------------------------------------------------------

def test_it_shows_how_to_fix_an_unregistered_softphone(agent_client, phone):
    page = agent_client.get(URL).content.decode()
    assert "Your softphone is not registered" in page
    assert 'id="extension">1001<' in page
    assert "pbx.example.com" in page  # domain = the server's host
    assert ">5062<" in page  # its SIP port
    assert ">TCP<" in page  # transport-tcp
    # The password is there only behind a reveal, not in plain view.
    assert "<summary>Show password</summary>" in page
    assert page.index("S3cretSipPassw0rd") > page.index("<summary>Show password</summary>")


def test_it_shows_a_registered_softphone_with_its_user_agent_and_address(agent_client, phone):
    _register("1001")
    page = agent_client.get(URL).content.decode()
    assert "Registered — MicroSIP/3.21.3, 192.0.2.10:5070" in page
    assert "Your softphone is not registered" not in page
    assert 'id="softphone-settings" hidden' in page


def test_an_expired_contact_does_not_count_as_registered(agent_client, phone):
    _register("1001", expires_in=-60)
    assert "Your softphone is not registered" in agent_client.get(URL).content.decode()


def test_it_says_so_when_no_phone_is_assigned(agent_client):
    page = agent_client.get(URL).content.decode()
    assert "No active phone assigned — ask an admin to assign you an extension" in page
    assert "softphone-settings" not in page


def test_an_inactive_phone_counts_as_no_phone(agent_client, phone):
    phone.is_active = False
    phone.save()
    page = agent_client.get(URL).content.decode()
    assert "No active phone assigned" in page
    assert "S3cretSipPassw0rd" not in page


def test_it_never_shows_another_agents_phone(agent_client, other_agent, server):
    Phone.objects.create(extension="1002", name="Carol", server=server, user=other_agent,
                         secret="CarolsOwnPassw0rd1")
    page = agent_client.get(URL).content.decode()
    assert "1002" not in page
    assert "CarolsOwnPassw0rd1" not in page
    assert "No active phone assigned" in page


def test_the_registration_endpoint_reports_the_agents_own_phone(agent_client, phone, server,
                                                                 other_agent):
    # This server's AMI answers nothing: the ps_contacts rows are read, and the answer says so.
    url = reverse("telephony:agent_registration")
    before = agent_client.get(url).json()
    assert before["has_phone"] is True and before["registered"] is False
    assert before["text"] == "Your softphone is not registered"
    Phone.objects.create(extension="1002", name="Carol", server=server, user=other_agent)
    _register("1002", user_agent="Zoiper")
    _register("1001")
    after = agent_client.get(url).json()
    assert {key: after[key] for key in ("registered", "user_agent", "address", "source")} == {
        "registered": True, "user_agent": "MicroSIP/3.21.3", "address": "192.0.2.10:5070",
        "source": "database"}
    assert "Asterisk could not be asked" in after["problem"]


def test_registration_is_what_asterisk_reports(agent_client, phone, server):
    # Defect 5 of issue #12: ps_contacts said registered while Asterisk refused to ring it.
    _register("1001")
    with FakeAmiServer() as ami:
        server.ami_port, server.ami_username, server.ami_password = (ami.port, ami.username,
                                                                     ami.secret)
        server.save()
        ami.endpoints = {"1001": registered_endpoint("1001", "Unreachable")}
        unreachable = agent_client.get(reverse("telephony:agent_registration")).json()
        page = agent_client.get(URL).content.decode()
        ami.endpoints = {"1001": registered_endpoint("1001", "Reachable", port=5071)}
        reachable = agent_client.get(reverse("telephony:agent_registration")).json()
        ami.endpoints = {}
        gone = agent_client.get(reverse("telephony:agent_registration")).json()
        assert len(ami.actions_named("PJSIPShowContacts")) == 4

    assert unreachable["registered"] is True and unreachable["reachable"] is False
    assert unreachable["state"] == "unreachable" and unreachable["source"] == "asterisk"
    assert "Asterisk cannot reach your phone right now" in unreachable["text"]
    assert "Asterisk cannot reach your phone right now" in page
    assert 'data-registered="no" data-state="unreachable"' in page
    assert reachable["reachable"] is True and reachable["state"] == "reachable"
    assert reachable["address"] == "127.0.0.1:5071" and reachable["problem"] == ""
    assert reachable["text"] == "Registered — autodialer-sipp-phone, 127.0.0.1:5071"
    # Asterisk has no contact: not registered, whatever ps_contacts still holds.
    assert gone["registered"] is False and gone["state"] == "not_registered"


def test_the_registration_endpoint_says_when_there_is_no_phone(agent_client):
    response = agent_client.get(reverse("telephony:agent_registration"))
    assert response.json() == {"has_phone": False, "registered": False}


# --- dialling ------------------------------------------------------------------------------

def test_it_offers_only_running_campaigns_the_agent_is_assigned_to(agent_client, agent,
                                                                     other_agent):
    running_campaign("Spring renewals", agents=[agent])
    running_campaign("Someone else's", agents=[other_agent])
    Campaign.objects.create(name="Old winter push", status=Campaign.Status.FINISHED)
    page = agent_client.get(URL).content.decode()
    assert "Spring renewals" in page
    assert "Old winter push" not in page and "Someone else" not in page
    assert '<option value="">No campaign</option>' in page


def test_it_labels_every_control(agent_client, phone):
    page = agent_client.get(URL).content.decode()
    for control in ("number", "campaign", "transfer-target"):
        assert re.search(rf'<label [^>]*for="{control}"', page)
        assert f'id="{control}"' in page
    assert 'aria-label="Dialpad"' in page
    assert 'aria-live="assertive"' in page  # errors
    assert 'id="call-status" aria-live="polite"' in page  # call state


def test_it_gives_the_script_the_call_control_endpoints(agent_client, phone):
    page = agent_client.get(URL).content.decode()
    assert 'data-originate-url="/telephony/calls/originate/"' in page
    assert 'data-hangup-url="/telephony/calls/hangup/"' in page
    assert 'data-transfer-url="/telephony/calls/transfer/"' in page
    assert 'data-current-url="/telephony/calls/current/"' in page
    assert ('data-status-url="/telephony/calls/00000000-0000-0000-0000-000000000000/status/"'
            in page)


# --- recent calls --------------------------------------------------------------------------

def test_it_lists_the_agents_recent_calls_with_outcome_and_duration(agent_client, agent):
    _call(agent, "+15551230001", duration=125, answered_at=timezone.now())
    _call(agent, "+15551230002", status=Call.Status.BUSY, hangup_cause=17,
          hangup_cause_text="User busy")
    page = agent_client.get(URL).content.decode()
    assert "+15551230001" in page
    assert "2:05" in page
    assert "Completed" in page
    assert "Busy" in page and "User busy" in page
    assert 'data-redial="+15551230002"' in page


def test_it_says_why_a_call_failed(agent_client, agent):
    _call(agent, "+15551230001", status=Call.Status.FAILED,
          error_message="Asterisk cannot reach your phone right now")
    assert "Asterisk cannot reach your phone right now" in (
        agent_client.get(URL).content.decode())


def test_it_never_lists_another_agents_calls(agent_client, agent, other_agent):
    _call(agent, "+15551230001")
    _call(other_agent, "+15559990000")
    for url in (URL, reverse("telephony:agent_recent_calls")):
        page = agent_client.get(url).content.decode()
        assert "+15551230001" in page
        assert "+15559990000" not in page


def test_it_lists_only_the_ten_newest_calls(agent_client, agent):
    now = timezone.now()
    for n in range(12):
        call = _call(agent, f"+1555123{n:04d}")
        Call.objects.filter(pk=call.pk).update(created_at=now - timedelta(minutes=12 - n))
    page = agent_client.get(URL).content.decode()
    assert "+15551230011" in page and "+15551230002" in page
    assert "+15551230001" not in page and "+15551230000" not in page


def test_it_shows_todays_calls_by_time_and_older_ones_with_the_date(agent_client, agent):
    now = timezone.localtime()
    today = _call(agent, "+15551230001")
    older = _call(agent, "+15551230002")
    Call.objects.filter(pk=today.pk).update(created_at=now.replace(hour=9, minute=5))
    Call.objects.filter(pk=older.pk).update(
        created_at=(now - timedelta(days=3)).replace(hour=17, minute=30))
    page = agent_client.get(URL).content.decode()
    assert ">09:05</time>" in page
    assert f">{(now - timedelta(days=3)):%b} {(now - timedelta(days=3)).day}, 17:30</time>" in page


def test_the_recent_calls_fragment_is_the_list_alone(agent_client, agent):
    _call(agent, "+15551230001")
    response = agent_client.get(reverse("telephony:agent_recent_calls"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "+15551230001" in html
    assert "<html" not in html


def test_it_says_when_there_are_no_calls_yet(agent_client):
    assert "No calls yet" in agent_client.get(URL).content.decode()


def test_its_query_count_does_not_grow_with_calls_or_campaigns(agent_client, agent, phone,
                                                               django_assert_num_queries):
    campaign = Campaign.objects.create(name="Spring")
    _register("1001")
    _call(agent, "+15551230001", campaign=campaign)
    # session, user, roles, phone+server, ps_contacts, campaigns, calls+campaign
    with django_assert_num_queries(7):
        assert agent_client.get(URL).status_code == 200
    for n in range(9):
        Campaign.objects.create(name=f"Campaign {n}")
        _call(agent, f"+1555000{n:04d}", campaign=campaign)
    with django_assert_num_queries(7):
        assert agent_client.get(URL).status_code == 200
