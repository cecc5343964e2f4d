"""Defect 5 of issue #12 on a real Asterisk: "Registered" in the UI while Asterisk refused to
call the phone. A contact that did not answer one qualify (OPTIONS) is Unreachable for up to
qualify_frequency seconds, although its ps_contacts row stays and the phone re-registers; an
Originate then fails at once. The pages show what Asterisk reports (PJSIPShowContacts), and
the originate API says Asterisk cannot reach the phone."""

import re

import pytest
from django.urls import reverse

from telephony.models import Call, PsContact
from telephony.tests.fakes.ami import closed_port
from telephony.tests.integration.scenes import agent_with_phone, api, wait_for

pytestmark = pytest.mark.integration


def contact_status(pbx, extension: str, status: str) -> None:
    """Until `pjsip show contacts` lists the contact with `status` (Avail / Unavail)."""
    pbx.wait_for_cli("pjsip show contacts",
                     lambda out: re.search(rf"{extension}/\S+\s+\S+\s+{status}\b", out),
                     timeout=10)


def pages(admin_client, agent_client, phone) -> dict:
    return {
        "list": admin_client.get(reverse("telephony:phone_list")).content.decode(),
        "detail": admin_client.get(reverse("telephony:phone_detail", args=[phone.pk]))
        .content.decode(),
        "my_phone": agent_client.get(reverse("telephony:my_phone")).content.decode(),
        "panel": agent_client.get(reverse("telephony:agent_panel")).content.decode(),
        "board": admin_client.get(reverse("telephony:live_board_fragment")).content.decode(),
    }


def test_the_pages_follow_asterisk_when_a_registered_phone_stops_answering(
        pbx, admin_client, django_user_model, settings):
    # The list reuses a server's answer for REGISTRATION_CACHE_SECONDS (and says how old it
    # is); here every page must follow Asterisk at once.
    settings.REGISTRATION_CACHE_SECONDS = 0
    agent_client, phone = agent_with_phone(pbx, django_user_model, username="bob",
                                           extension="7101")
    reg = pbx.register("7101", phone.secret)
    assert reg.returncode == 0
    uas = pbx.sipp_uas("phone_answer", port=reg.port)  # answers OPTIONS
    pbx.cli("pjsip qualify 7101")
    contact_status(pbx, "7101", "Avail")

    seen = pages(admin_client, agent_client, phone)
    for name in ("list", "detail", "my_phone"):
        assert ">Registered<" in seen[name] and ">Reachable<" in seen[name], name
        assert 'id="registration-problem"' not in seen[name], name
    assert 'data-registered="yes" data-state="reachable"' in seen["panel"]
    assert 'data-agent="bob" data-state="available"' in seen["board"]
    json = agent_client.get(reverse("telephony:agent_registration")).json()
    assert json["state"] == "reachable" and json["source"] == "asterisk"

    # The phone stops answering OPTIONS, fails the next qualify, then registers again: its
    # ps_contacts row is there all along, Asterisk still will not call it.
    uas.stop()
    pbx.cli("pjsip qualify 7101")
    contact_status(pbx, "7101", "Unavail")
    assert pbx.register("7101", phone.secret, port=reg.port).returncode == 0
    assert PsContact.objects.filter(endpoint="7101").exists()
    contact_status(pbx, "7101", "Unavail")

    seen = pages(admin_client, agent_client, phone)
    for name in ("list", "detail", "my_phone"):
        assert ">Cannot be reached<" in seen[name] and ">Registered<" not in seen[name], name
    assert "Asterisk cannot reach your phone right now" in seen["my_phone"]
    assert 'data-registered="no" data-state="unreachable"' in seen["panel"]
    assert "Asterisk cannot reach your phone right now" in seen["panel"]
    assert 'data-agent="bob" data-state="unreachable"' in seen["board"]
    json = agent_client.get(reverse("telephony:agent_registration")).json()
    assert json["registered"] is True and json["reachable"] is False

    status, body = api(agent_client, "call_originate", {"phone_number": "+15551234567"})

    assert status == 409, body
    assert body["code"] == "phone_unreachable"
    assert "Asterisk cannot reach your phone right now" in body["error"]
    call = Call.objects.get(pk=body["call_id"])
    assert call.status == "failed" and "cannot reach your phone" in call.error_message
    assert "0 active channels" in pbx.cli("core show channels count")


def test_a_phone_that_never_registered_is_refused_before_dialling(pbx, django_user_model):
    agent_client, _phone = agent_with_phone(pbx, django_user_model, username="bob",
                                            extension="7101")

    status, body = api(agent_client, "call_originate", {"phone_number": "+15551234567"})

    assert status == 409 and body["code"] == "phone_not_registered", body
    assert "not registered with Asterisk" in body["error"]


def test_without_asterisk_the_pages_read_ps_contacts_and_say_so(pbx, admin_client,
                                                                django_user_model):
    agent_client, phone = agent_with_phone(pbx, django_user_model, username="bob",
                                           extension="7101")
    assert pbx.register("7101", phone.secret).returncode == 0
    wait_for(lambda: PsContact.objects.filter(endpoint="7101").exists(),
             what="Asterisk writing the contact row")
    pbx.server.ami_port = closed_port()
    pbx.server.save()

    seen = pages(admin_client, agent_client, phone)

    for name in ("list", "detail", "my_phone", "panel", "board"):
        assert 'id="registration-problem"' in seen[name], name
        assert "Asterisk could not be asked" in seen[name], name
    assert ">Registered<" in seen["list"] and "not checked with Asterisk" in seen["list"]
