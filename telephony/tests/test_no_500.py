"""The inputs that answered 500 (issue 11, item 3): each is now a clear 4xx, JSON on the API.
Runs on SQLite, PostgreSQL (which refuses a NUL in text outright) and MariaDB."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from telephony.models import Call, Phone
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.phone_helpers import make_server
from users.models import LoginFailure

pytestmark = pytest.mark.django_db


def test_a_nul_in_the_login_username_is_a_400_for_anyone():
    response = Client().post(reverse("users:login"), {"username": "bob\x00", "password": "x"})
    assert response.status_code == 400
    assert b"control character U+0000" in response.content
    assert not LoginFailure.objects.exists()


@pytest.mark.parametrize("name", ["telephony:phone_list", "telephony:phone_export",
                                  "users:list"])
def test_a_nul_in_a_search_is_a_400(admin_client, name):
    response = admin_client.get(reverse(name), {"q": "10\x0001"})
    assert response.status_code == 400
    assert b"control character" in response.content


@pytest.mark.parametrize("name", ["telephony:phone_list", "telephony:phone_export"])
@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1e3", "-1", "9" * 30, "0x1"])
def test_a_server_that_is_not_ascii_digits_is_a_400(admin_client, name, value):
    response = admin_client.get(reverse(name), {"server": value})
    assert response.status_code == 400
    assert b"whole number" in response.content


def test_a_good_server_filter_still_filters(admin_client):
    server = make_server()
    Phone.objects.create(extension="1001", name="Desk", server=server)
    assert b"1001" in admin_client.get(reverse("telephony:phone_export"),
                                       {"server": str(server.pk)}).content
    assert b"1001" not in admin_client.get(reverse("telephony:phone_export"),
                                           {"server": str(server.pk + 1)}).content


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_date_out_of_range_is_a_form_error_on_the_call_log(agent_client, admin_client, value):
    for client in (agent_client, admin_client):
        page = client.get(reverse("telephony:call_list"), {"date_to": value})
        assert page.status_code == 200
        assert "Enter a date from 2000-01-01" in page.content.decode()
        export = client.get(reverse("telephony:call_export"), {"date_to": value})
        assert export.status_code == 400
        assert b"Enter a date from 2000-01-01" in export.content


@pytest.mark.parametrize("confirm", [True, False])
def test_bulk_create_with_a_padded_start_and_a_shorter_end(admin_client, confirm):
    server = make_server()
    # The names are checked against the padded extension, not the end as typed.
    data = {"start": "000000000000001", "end": "10", "name_pattern": "A" * 70 + "{ext}",
            "server": str(server.pk), "context": "agents", "codecs": ["ulaw"],
            "transport": "transport-udp", "max_contacts": "1"}
    if confirm:
        data["confirm"] = "1"
    response = admin_client.post(reverse("telephony:phone_bulk_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["name_pattern"] == ["Names are at most 80 characters."]
    assert not Phone.objects.exists()


@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data; boundary=B",
     b'--B\r\nContent-Disposition: form-data; name="phone_number"\r\n\r\n5551234567\r\n--B--\r\n'),
    ("application/x-www-form-urlencoded", b"phone_number=5551234567"),
    ("text/plain", json.dumps({"phone_number": "5551234567"}).encode()),
    ("application/json", json.dumps({"phone_number": "555\ud800"}).encode()),
    ("application/json", b'{"phone_number": "5551234567\\u0000"}'),
    ("application/json", b"[" * 5000 + b"]" * 5000),
])
def test_the_originate_api_answers_a_wrong_body_with_json_400(agent_client, agent_phone,
                                                              fake_ami, content_type, body):
    csrf = agent_client.get(reverse("telephony:agent_panel")).cookies.get("csrftoken")
    headers = {"X-CSRFToken": csrf.value} if csrf else {}
    before = fake_ami.connection_count  # the panel asked Asterisk for the registration
    response = agent_client.post(reverse("telephony:call_originate"), body,
                                 content_type=content_type, headers=headers)
    assert response.status_code == 400
    # A NUL in the number reaches the number's own check and gets its code.
    assert response.json()["code"] in ("invalid_json", "invalid_input", "invalid_number")
    assert not Call.objects.exists()
    assert fake_ami.connection_count == before


@pytest.mark.parametrize("path", [
    "/telephony/calls/not-a-uuid/status/",
    "/telephony/calls/0B0E6F2A-5D7C-4E45-9A8B-1C2D3E4F5A6B/status/",
    "/telephony/calls/1/status/",
    "/telephony/calls/originate/extra/status/",
    "/telephony/agent/nothing/registration/",
])
def test_an_api_path_that_matches_no_route_answers_json_404(agent_client, path):
    response = agent_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_other_missing_pages_stay_html(agent_client):
    response = agent_client.get("/telephony/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("name, method", [("call_originate", "get"), ("call_hangup", "put"),
                                          ("call_current", "post"), ("call_transfer", "delete")])
def test_a_wrong_method_on_the_api_answers_json_405(agent_client, name, method):
    response = getattr(agent_client, method)(reverse(f"telephony:{name}"))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"]
