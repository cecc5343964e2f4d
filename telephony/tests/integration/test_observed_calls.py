"""Defect 8 of issue #12 on a real Asterisk: calls the app did not start were invisible to it.
A sipp softphone dials through the agents context by itself, a colleague calls, a carrier
sends a call in for a DID; the listener logs the call with its direction and states, the agent
panel shows it, and a click-to-call to that busy agent is refused instead of ringing the phone
a second time."""

import pytest
from django.urls import reverse

from telephony.models import Call, Carrier
from telephony.realtime.carriers import inbound_context
from telephony.services.carriers import carrier_create
from telephony.services.dialplan import context_create, extension_create
from telephony.tests.integration.ami_recorder import recording
from telephony.tests.integration.harness import CARRIER_ADDRESS, free_udp_port
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    carrier_on,
    scaffold,
    wait_for,
)

pytestmark = pytest.mark.integration


def observed(**filters):
    return Call.objects.filter(observed=True, **filters).first()


def test_a_call_dialled_on_the_softphone_is_logged_shown_and_blocks_a_second_call(
        pbx, events_worker, django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    carrier = pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier)
    scaffold()
    assert pbx.register("7101", phone.secret).returncode == 0

    softphone = pbx.dial("7101", phone.secret, "+15551234567", talk_ms=6000)

    call = wait_for(lambda: observed(status="answered"), what="the call logged as answered")
    assert call.direction == "outbound" and call.number == "+15551234567"
    assert call.user.username == "bob" and call.channel.startswith("PJSIP/7101-")
    assert call.peer_channel.startswith("PJSIP/trunk-acme-")
    current = client.get(reverse("telephony:call_current")).json()["call"]
    assert current["call_id"] == str(call.pk) and current["status"] == "answered"
    assert current["observed"] is True and current["direction"] == "outbound"
    board = supervisor_board(django_user_model)
    assert 'data-agent="bob" data-state="on_call"' in board

    status, body = api(client, "call_originate", {"phone_number": "+15559876543"})

    assert status == 409 and body["code"] == "call_in_progress", body
    assert "already have a call in progress" in body["error"]
    assert not Call.objects.filter(observed=False, status__in=Call.LIVE_STATUSES).exists()

    assert softphone.wait(20) == 0, softphone.messages()[-2000:]
    wait_for(lambda: observed(status="completed"), what="the call completed")
    call.refresh_from_db()
    assert call.answered_at and call.ended_at and call.hangup_cause == 16


def test_a_call_between_two_extensions_logs_both_agents_internal(pbx, events_worker,
                                                                 django_user_model):
    _client, bob = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    carol_client, carol = agent_with_phone(pbx, django_user_model, username="carol",
                                           extension="7102")
    scaffold()
    assert pbx.register("7101", bob.secret).returncode == 0
    pbx.phone("7102", carol.secret)

    softphone = pbx.dial("7101", bob.secret, "7102", talk_ms=4000)

    wait_for(lambda: Call.objects.filter(observed=True, status="answered").count() == 2,
             what="both legs answered")
    rows = {c.phone.extension: c for c in Call.objects.filter(observed=True)}
    assert rows["7101"].direction == rows["7102"].direction == "internal"
    assert rows["7101"].number == "7102" and rows["7102"].number == "7101"
    # Carol is busy too: her click-to-call is refused.
    status, body = api(carol_client, "call_originate", {"phone_number": "+15559876543"})
    assert status == 409 and body["code"] == "call_in_progress", body
    assert softphone.wait(20) == 0
    wait_for(lambda: set(Call.objects.values_list("status", flat=True)) == {"completed"},
             what="both rows completed")


DID = "+15550001111"
CUSTOMER = "+15557654321"


def route_did(did: str, extension: str) -> None:
    """The operator's inbound rule (docs/asterisk-realtime.md): on the Dialplan page, the
    carriers' context (from-trunk) rings `extension` for calls to `did`."""
    context = context_create(name=inbound_context(), description="Calls from carriers")
    extension_create(context=context, pattern=did, application="Dial",
                     arguments=f"PJSIP/{extension},30")
    extension_create(context=context, pattern=did, application="Hangup")


def test_a_carrier_calling_a_did_routed_to_an_extension_is_logged_inbound(
        pbx, events_worker, django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    desk = pbx.phone("7101", phone.secret, scenario="phone_ring_then_answer")
    # Matched by its address (its identify row); qualify off, as for a provider that does not
    # answer OPTIONS: the sipp sending the call would take an OPTIONS for a broken call.
    carrier = carrier_create(name="Acme", slug="acme", server=pbx.server, host=CARRIER_ADDRESS,
                             port=free_udp_port(CARRIER_ADDRESS),
                             auth_mode=Carrier.AuthMode.IP, qualify_frequency=0)
    route_did(DID, "7101")

    with recording(pbx, "ami_carrier_calls_extension.txt"):
        customer = pbx.carrier_call(carrier, DID, CUSTOMER, talk_ms=5000)

        # The desk phone rings for a second before it answers: the row is there, ringing.
        call = wait_for(observed, what="the call logged")
        assert call.status == "ringing" and call.answered_at is None
        assert call.direction == "inbound" and call.number == CUSTOMER
        call = wait_for(lambda: observed(status="answered"), what="the call logged as answered")
        assert call.direction == "inbound" and call.number == CUSTOMER
        assert call.user.username == "bob" and call.phone == phone
        assert call.channel.startswith("PJSIP/7101-")
        assert call.peer_channel.startswith("PJSIP/trunk-acme-")
        assert call.answered_at and call.ended_at is None
        assert any(line.startswith("FROM ") and CUSTOMER in line for line in desk.logs()), \
            desk.logs()
        current = client.get(reverse("telephony:call_current")).json()["call"]
        assert current["call_id"] == str(call.pk) and current["status"] == "answered"
        assert current["observed"] is True and current["direction"] == "inbound"
        assert current["number"] == CUSTOMER
        assert 'data-agent="bob" data-state="on_call"' in supervisor_board(django_user_model)
        status, body = api(client, "call_originate", {"phone_number": "+15559876543"})
        assert status == 409 and body["code"] == "call_in_progress", body

        assert customer.wait(20) == 0, customer.messages()[-2000:]
        wait_for(lambda: observed(status="completed"), what="the call completed")

    call.refresh_from_db()
    assert call.ended_at and call.hangup_cause == 16 and call.duration >= 2
    # One row: the carrier's leg is not an extension of ours.
    assert list(Call.objects.values_list("pk", flat=True)) == [call.pk]
    assert not Call.objects.filter(observed=False).exists()


def test_without_the_listener_the_board_and_the_originate_ask_asterisk(pbx,
                                                                       django_user_model):
    # No events_worker: nothing logs the call. Asterisk's device state still shows the agent
    # busy on the board, and the originate's check refuses to ring the phone again.
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    carrier = pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier)
    scaffold()
    reg = pbx.register("7101", phone.secret)
    assert reg.returncode == 0

    softphone = pbx.dial("7101", phone.secret, "+15551234567", talk_ms=6000)
    pbx.wait_for_cli("core show channels concise", lambda out: "PJSIP/7101-" in out
                     and "Up" in out)

    assert not Call.objects.exists()
    wait_for(lambda: 'data-agent="bob" data-state="on_call"' in supervisor_board(
        django_user_model), what="the board showing bob on a call")
    status, body = api(client, "call_originate", {"phone_number": "+15559876543"})
    assert status == 409 and body["code"] == "phone_busy", body
    assert "already on a call" in body["error"]
    assert softphone.wait(20) == 0


def supervisor_board(django_user_model, username: str = "sue") -> str:
    from django.contrib.auth.models import Group
    from django.test import Client

    supervisor = django_user_model.objects.get_or_create(username=username)[0]
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client = Client()
    client.force_login(supervisor)
    return client.get(reverse("telephony:live_board_fragment")).content.decode()
